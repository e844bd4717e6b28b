"""The GPT-Live simulator's WebSocket server: handshake checks and faults.

Listens at ``/v1/live/sessions`` with no query string. The handshake needs
``Authorization: Bearer <key>`` (a wrong key gets HTTP 401 like the real API); a
query string gets HTTP 400 ("Connect to Live without query parameters"). Faults
(``realtime_server.config.Faults``) are read when each connection opens: slow
start (before session.started), expiry (``session.closed`` with reason
``expired``), a dropped TCP connection, a rejected ``session.start``, bad keys.
"""

from __future__ import annotations

import asyncio
import logging
import time
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from calls.tooling.simulators.live_server.config import LiveConfig
from calls.tooling.simulators.live_server.session import LiveSession
from calls.tooling.simulators.realtime_server.config import Faults
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.ws_server import (
    BackgroundSimulator,
    WebSocketSimulator,
    json_error_response,
)

logger = logging.getLogger(__name__)

PATH = "/v1/live/sessions"
T = TypeVar("T")


class LiveSimulator(WebSocketSimulator[LiveConfig]):
    """A local GPT-Live stand-in: ``await start()``, use ``.url``, ``stop()``."""

    path = PATH
    label = "GPT-Live simulator"

    def __init__(self, config: LiveConfig | None = None, **overrides: object) -> None:
        super().__init__(config or LiveConfig(), **overrides)
        self.connections: list[ConnectionRecord] = []
        self.sessions: list[LiveSession] = []

    @property
    def faults(self) -> Faults:
        return self.config.faults

    def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != PATH:
            self.rejected_handshakes += 1
            return json_error_response(
                HTTPStatus.NOT_FOUND, "not_found", f"Unknown path {parts.path}."
            )
        if parts.query:
            self.rejected_handshakes += 1
            return json_error_response(
                HTTPStatus.BAD_REQUEST,
                "invalid_request_error",
                "Connect to Live without query parameters.",
            )
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        expected = self.config.api_key
        if (
            self.faults.reject_all_keys
            or not key
            or (expected is not None and key != expected)
        ):
            self.rejected_handshakes += 1
            return json_error_response(
                HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "Incorrect API key provided.",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        record = ConnectionRecord(
            id=len(self.connections) + 1,
            path=request.path,
            model="",
            auth_header="authorization",
        )
        self.connections.append(record)
        self._live.add(ws)
        session = LiveSession(ws, record, self.config)
        self.sessions.append(session)
        timers = self._start_fault_timers(ws, session)
        try:
            if self.faults.slow_start_ms:
                await asyncio.sleep(self.faults.slow_start_ms / 1000)
            await session.run()
        finally:
            for timer in timers:
                timer.cancel()
            self._live.discard(ws)
            record.closed_at = time.monotonic()
            record.close_code = ws.close_code
            record.closed.set()

    def _start_fault_timers(
        self, ws: ServerConnection, session: LiveSession
    ) -> list[asyncio.TimerHandle]:
        loop = asyncio.get_running_loop()
        timers = []
        if self.faults.expire_after_s is not None:
            timers.append(
                loop.call_later(
                    self.faults.expire_after_s,
                    lambda: self._spawn(session.close_session("expired")),
                )
            )
        if self.faults.drop_after_s is not None:
            timers.append(loop.call_later(self.faults.drop_after_s, ws.transport.abort))
        return timers


class LiveSimulatorThread(BackgroundSimulator[LiveSimulator]):
    """A ``LiveSimulator`` on its own event loop in a background thread."""

    def __init__(self, config: LiveConfig | None = None, **overrides: Any) -> None:
        super().__init__(
            LiveSimulator(config, **overrides), thread_name="live-simulator"
        )
