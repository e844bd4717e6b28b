"""One simulated Realtime session on one WebSocket: sending, errors, session.update.

Subclasses (conversation and echo mode) add handlers named ``on_<event type with
dots as underscores>``; unknown client event types get the real server's
``invalid_value`` error, malformed JSON gets ``invalid_json``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from calls.tooling.simulators.realtime_server.config import SimulatorConfig
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.session import (
    SessionError,
    apply_update,
    default_session,
)

logger = logging.getLogger(__name__)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


class SessionConnection:
    record_appends = True

    def __init__(
        self, ws: ServerConnection, record: ConnectionRecord, config: SimulatorConfig
    ) -> None:
        self.ws = ws
        self.record = record
        self.config = config
        self.session = default_session(record.model)
        record.session = self.session
        self._event_ids = itertools.count(1)
        self.conversation_id = new_id("conv")

    async def run(self) -> None:
        """Greet with session.created, then handle client events until the close."""
        await self.send({"type": "session.created", "session": self.session})
        try:
            async for message in self.ws:
                await self.handle_message(message)
        except ConnectionClosed:
            pass
        finally:
            await self.closing()

    async def handle_message(self, message: str | bytes) -> None:
        try:
            event = orjson.loads(message)
        except orjson.JSONDecodeError:
            await self.error("invalid_json", "The message is not valid JSON.")
            return
        if not isinstance(event, dict):
            await self.error("invalid_json", "Expected a JSON object.")
            return
        kind = event.get("type")
        if kind != "input_audio_buffer.append" or self.record_appends:
            self.record.events.append(event)
        handler = getattr(self, "on_" + str(kind).replace(".", "_"), None)
        if handler is None:
            await self.error(
                "invalid_value",
                f"Invalid value: '{kind}'. Unsupported client event type.",
                param="type",
                event=event,
            )
            return
        await handler(event)

    async def closing(self) -> None:
        """The socket is closing: stop background work."""

    async def send(self, event: dict[str, Any]) -> None:
        event["event_id"] = f"event_{next(self._event_ids)}"
        if event["type"] != "response.output_audio.delta":
            self.record.sent.append(event)
        try:
            await self.ws.send(orjson.dumps(event).decode())
        except ConnectionClosed:
            logger.debug(
                "connection %s closed before %s", self.record.id, event["type"]
            )

    async def error(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        event: dict[str, Any] | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        client_event_id = (event or {}).get("event_id")
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": kind,
                    "code": code,
                    "message": message,
                    "param": param,
                    "event_id": client_event_id,
                },
            }
        )

    async def on_session_update(self, event: dict[str, Any]) -> None:
        if self.config.faults.reject_session_update:
            await self.error(
                "invalid_value",
                "Simulated fault: this session.update is rejected.",
                param="session",
                event=event,
            )
            return
        try:
            self.session = apply_update(self.session, event.get("session"))
        except SessionError as exc:
            # The real server keeps running with the previous settings.
            await self.error(exc.code, exc.message, param=exc.param, event=event)
            return
        self.record.session = self.session
        self.session_changed()
        await self.send({"type": "session.updated", "session": self.session})

    def session_changed(self) -> None:
        """Hook: the session settings were replaced."""

    @property
    def output_format(self) -> str:
        kind: str = self.session["audio"]["output"]["format"]["type"]
        return kind

    async def sleep_ms(self, ms: float) -> None:
        if ms > 0:
            await asyncio.sleep(ms / 1000)
