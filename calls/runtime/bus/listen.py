"""Listen-in messages: a live call's audio, both sides, for staff browsers.

A viewer's socket (``calls.review.live``) sends
``{"type": "call.listen", "listener": <its channel>, "on": true}`` to the call's
control group (``control.group_name``) and repeats it every ``RENEW_SECONDS``;
``"on": false`` (or silence for ``LISTENER_TTL_SECONDS``) ends it. The runner
holding the call (``calls.runtime.listen``) then publishes batches of both
sides' audio to the call's listen group (``listen_group``), which the
listeners' sockets joined::

    {"type": "listen.audio", "call_sid": ..., "seq": n, "caller": [b64, ...],
     "assistant": [b64, ...], "cleared": bool}

``cleared``: Twilio dropped the assistant audio it had not played yet (barge-in)
before the assistant payloads of this batch; the browser drops its queue too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from calls.runtime.bus.control import group_name

LISTEN_MESSAGE_TYPE = "call.listen"  # on the control group
AUDIO_MESSAGE_TYPE = "listen.audio"  # on the listen group
RENEW_SECONDS = 5.0
LISTENER_TTL_SECONDS = 15.0
MAX_LISTENER_CHARS = 200

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


def listen_group(call_sid: str) -> str:
    """The group a call's listeners join (``control.group_name``'s CallSid rules)."""
    return "call-listen." + group_name(call_sid).removeprefix("call-control.")


def parse_listen(message: dict[str, Any]) -> tuple[str, bool] | None:
    """A ``call.listen`` message -> (listener, on); None if malformed."""
    listener = message.get("listener")
    on = message.get("on")
    if not isinstance(listener, str) or not listener or not isinstance(on, bool):
        return None
    return listener[:MAX_LISTENER_CHARS], on


async def publish_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, message)
