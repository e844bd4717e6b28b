"""Call control from any process: hang up or transfer a call in progress.

Each live call's runner listens on its own channel-layer group,
``call-control.<CallSid>`` (``live_events`` uses ``call.<CallSid>`` for viewers).
A controller (the ``calls`` management command, a staff page) sends a command to
that group with a reply channel and waits for the runner's answer, so it can tell
"done" from "no server process holds this call". With Redis as the channel layer
this works across processes; with the in-memory layer only inside the serving
process (the management command says so instead of waiting in vain).

Commands are plain dicts on the wire::

    {"type": "call.control", "command": "hangup" | "transfer",
     "requested_by": "alice", "to": "+15550001111", "message": "...",
     "reply_to": "<channel name>"}

and the runner answers ``{"type": "call.control.reply", "ok": bool, "message": str}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from calls.runtime.bus import layer_failure

logger = logging.getLogger(__name__)

CONTROL_MESSAGE_TYPE = "call.control"
REPLY_MESSAGE_TYPE = "call.control.reply"
HANGUP = "hangup"
TRANSFER = "transfer"
COMMANDS = (HANGUP, TRANSFER)
# How long a controller waits for the runner that holds the call to answer.
REPLY_TIMEOUT_SECONDS = 3.0
MAX_MESSAGE_CHARS = 500
MAX_REQUESTED_BY_CHARS = 150
# What the caller hears before a transfer when staff give no message of their own.
DEFAULT_TRANSFER_MESSAGE = "Transferring you now"

_E164 = re.compile(r"\A\+[1-9]\d{1,14}\Z")
# Twilio CallSids are "CA" + 32 hex digits; channel-layer group names allow
# [A-Za-z0-9._-] under 100 characters, so anything of that shape is safe.
_CALL_SID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")


class ControlError(Exception):
    """A control request that cannot be carried out; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """A validated control command, as the runner receives it."""

    command: str
    requested_by: str
    to: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class ControlReply:
    ok: bool
    message: str


def group_name(call_sid: str) -> str:
    """The channel-layer group a live call's runner listens on."""
    if not _CALL_SID.match(call_sid):
        raise ControlError("that is not a CallSid")
    return f"call-control.{call_sid}"


def is_e164(number: str) -> bool:
    return bool(_E164.match(number))


def parse_command(message: dict[str, Any]) -> ControlCommand:
    """A channel-layer message -> ``ControlCommand``; ``ControlError`` if bad."""
    command = message.get("command")
    if command not in COMMANDS:
        raise ControlError(f"unknown command {str(command)[:40]!r}")
    requested_by = str(message.get("requested_by") or "")[:MAX_REQUESTED_BY_CHARS]
    text = message.get("message") or ""
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        raise ControlError(f"the message must be text of at most {MAX_MESSAGE_CHARS}")
    to = message.get("to") or ""
    if command == TRANSFER and not (isinstance(to, str) and is_e164(to)):
        raise ControlError(
            "the transfer number must be in E.164 form, e.g. +15551234567"
        )
    return ControlCommand(
        command, requested_by, to if command == TRANSFER else "", text
    )


async def hang_up(call_sid: str, *, requested_by: str) -> ControlReply:
    """Ask the process holding ``call_sid`` to end it (Twilio then hangs up)."""
    return await _request(call_sid, {"command": HANGUP, "requested_by": requested_by})


async def transfer(
    call_sid: str, to: str, *, requested_by: str, message: str = ""
) -> ControlReply:
    """Ask the process holding ``call_sid`` to transfer it to ``to`` (E.164)."""
    if not is_e164(to):
        raise ControlError(
            "the transfer number must be in E.164 form, e.g. +15551234567"
        )
    if len(message) > MAX_MESSAGE_CHARS:
        raise ControlError(
            f"the message must be at most {MAX_MESSAGE_CHARS} characters"
        )
    return await _request(
        call_sid,
        {
            "command": TRANSFER,
            "requested_by": requested_by,
            "to": to,
            "message": message,
        },
    )


async def _request(call_sid: str, command: dict[str, Any]) -> ControlReply:
    group = group_name(call_sid)
    layer = get_channel_layer()
    if layer is None:
        raise ControlError("no channel layer is configured")
    # The whole exchange is bounded, not only the wait for the answer: a channel
    # layer that never answers a send (a stuck or lost Redis connection) must not
    # keep a staff request open. The exchange runs as a task of its own that is
    # abandoned on time, so even a layer that ignores cancellation cannot hold it.
    task = asyncio.ensure_future(_exchange(layer, group, command))
    try:
        done, _ = await asyncio.wait({task}, timeout=REPLY_TIMEOUT_SECONDS)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise ControlError(
            "the call is not live on any server process (no answer within "
            f"{REPLY_TIMEOUT_SECONDS:g} s)"
        )
    try:
        reply = task.result()
    except ControlError:
        raise
    except Exception as exc:
        raise ControlError(layer_failure.describe(exc)) from exc
    return ControlReply(bool(reply.get("ok")), str(reply.get("message") or ""))


async def _exchange(
    layer: BaseChannelLayer, group: str, command: dict[str, Any]
) -> dict[str, Any]:
    reply_to = await layer.new_channel()
    await layer.group_send(
        group, {"type": CONTROL_MESSAGE_TYPE, "reply_to": reply_to, **command}
    )
    message: dict[str, Any] = await layer.receive(reply_to)
    return message


async def reply(reply_to: str, answer: ControlReply) -> None:
    """The runner's answer to a controller (best effort: it may have given up)."""
    layer = get_channel_layer()
    if layer is None or not reply_to:
        return
    try:
        await layer.send(
            reply_to,
            {"type": REPLY_MESSAGE_TYPE, "ok": answer.ok, "message": answer.message},
        )
    except Exception:
        logger.exception("could not answer a call control request")
