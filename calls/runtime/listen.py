"""Listen in: the runner's side, relaying a live call's audio while someone listens.

The messages (who listens, the audio batches, their groups) are the bus's
(``calls.runtime.bus.listen``). The runner holding the call keeps the listeners
here; while there is at least one, an ``AudioRelay`` is the call state's tap: it
collects the base64 mu-law payloads of both sides as they pass (a list append, no
decoding) and every ``BATCH_SECONDS`` publishes what it has as one message to the
call's listen group. With no listener the tap is unset: the audio path pays one
``is None`` test per frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from calls.runtime.bus.listen import (
    AUDIO_MESSAGE_TYPE,
    LISTENER_TTL_SECONDS,
    Publish,
    listen_group,
    publish_to_group,
)

logger = logging.getLogger(__name__)

BATCH_SECONDS = 0.2


class AudioRelay:
    """The call's listen-in tap while someone listens (``call_audio.ListenTap``),
    and its sender."""

    __slots__ = ("assistant", "call_sid", "caller", "cleared", "group", "seq")

    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self.group = listen_group(call_sid)
        self.caller: list[str] = []
        self.assistant: list[str] = []
        self.cleared = False
        self.seq = 0

    # -- the tap (called on the audio path) -------------------------------------

    def caller_audio(self, payload: str) -> None:
        self.caller.append(payload)

    def assistant_audio(self, payload: str) -> None:
        self.assistant.append(payload)

    def assistant_cleared(self) -> None:
        self.assistant.clear()  # never sent: the caller will not hear it either
        self.cleared = True

    # -- the batches ------------------------------------------------------------

    def take(self) -> dict[str, Any] | None:
        """The audio collected since the last batch, as a message (None: none)."""
        if not (self.caller or self.assistant or self.cleared):
            return None
        self.seq += 1
        message = {
            "type": AUDIO_MESSAGE_TYPE,
            "call_sid": self.call_sid,
            "seq": self.seq,
            "caller": self.caller,
            "assistant": self.assistant,
            "cleared": self.cleared,
        }
        self.caller, self.assistant, self.cleared = [], [], False
        return message


class Listening:
    """One call's listeners and, while it has any, its relay task."""

    def __init__(
        self,
        call_sid: str,
        set_tap: Callable[[AudioRelay | None], None],
        *,
        publish: Publish = publish_to_group,
        batch_seconds: float = BATCH_SECONDS,
        ttl_seconds: float = LISTENER_TTL_SECONDS,
    ) -> None:
        self.call_sid = call_sid
        self.set_tap = set_tap
        self.publish = publish
        self.batch_seconds = batch_seconds
        self.ttl_seconds = ttl_seconds
        self.listeners: dict[str, float] = {}  # channel -> expires (monotonic s)
        self.relay: AudioRelay | None = None
        self.task: asyncio.Task[None] | None = None
        self.batches_sent = 0

    @property
    def count(self) -> int:
        return len(self.listeners)

    def update(self, listener: str, on: bool) -> None:
        if on:
            self.listeners[listener] = time.monotonic() + self.ttl_seconds
        else:
            self.listeners.pop(listener, None)
        if self.listeners and self.task is None:
            self.relay = AudioRelay(self.call_sid)
            self.set_tap(self.relay)
            self.task = asyncio.create_task(self._run())
            logger.info("call %s: listen-in started", self.call_sid)
        elif not self.listeners:
            self.stop()

    def stop(self) -> None:
        """No listener left, or the call ended: untap and stop sending."""
        self.listeners.clear()
        if self.task is not None:
            self.set_tap(None)
            self.task.cancel()
            self.task = None
            self.relay = None
            logger.info("call %s: listen-in stopped", self.call_sid)

    async def _run(self) -> None:
        relay = self.relay
        assert relay is not None
        while True:
            await asyncio.sleep(self.batch_seconds)
            now = time.monotonic()
            stale = [who for who, until in self.listeners.items() if until < now]
            for who in stale:
                del self.listeners[who]
            message = relay.take()
            if message is not None:
                try:
                    await self.publish(relay.group, message)
                    self.batches_sent += 1
                except Exception:  # listening must never hurt the call
                    logger.exception("call %s: listen-in batch lost", self.call_sid)
            if not self.listeners:  # all gone quiet: untap, end this task
                self.task = self.relay = None
                self.set_tap(None)
                logger.info("call %s: listen-in expired", self.call_sid)
                return
