"""The simulator's WebSocket server: handshake checks, faults, per-connection records.

Listens at ``/v1/realtime?model=...`` (and Azure's ``/openai/v1/realtime``). The
handshake needs ``Authorization: Bearer <key>`` or ``api-key: <key>``; a wrong key
gets HTTP 401 like the real API, and an ``OpenAI-Beta`` header gets the real
server's ``beta_api_shape_disabled`` error and close 4000. Faults (see
``config.Faults``) are read when each connection opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from calls.tooling.simulators.realtime_server.config import Faults, SimulatorConfig
from calls.tooling.simulators.realtime_server.conversation import Conversation
from calls.tooling.simulators.realtime_server.echo import EchoSession
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.ws_server import WebSocketSimulator, json_error_response

logger = logging.getLogger(__name__)

PATHS = ("/v1/realtime", "/openai/v1/realtime")
EXPIRED_MESSAGE = "Your session hit the maximum duration of 60 minutes."


def _presented_key(headers: Headers) -> tuple[str, str]:
    """(header used, key) from the handshake headers; empty key if none."""
    auth = headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return "authorization", auth[7:].strip()
    return "api-key", headers.get("api-key", "").strip()


class RealtimeSimulator(WebSocketSimulator[SimulatorConfig]):
    """A local GA Realtime API stand-in: ``await start()``, use ``.url``, ``stop()``."""

    path = PATHS[0]
    label = "Realtime simulator"

    def __init__(
        self, config: SimulatorConfig | None = None, **overrides: object
    ) -> None:
        super().__init__(config or SimulatorConfig(), **overrides)
        self.connections: list[ConnectionRecord] = []

    @property
    def faults(self) -> Faults:
        # The config's Faults: tests change them while the simulator runs.
        return self.config.faults

    async def drop_all(self) -> int:
        """Cut every open connection without a close frame; how many were cut."""
        live = list(self._live)
        for ws in live:
            ws.transport.abort()
        return len(live)

    def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if path not in PATHS:
            self.rejected_handshakes += 1
            return json_error_response(
                HTTPStatus.NOT_FOUND, "not_found", f"Unknown path {path}."
            )
        _, key = _presented_key(request.headers)
        expected = self.config.api_key
        if (
            self.faults.reject_all_keys
            or not key
            or (expected is not None and key != expected)
        ):
            self.rejected_handshakes += 1
            logger.info("Realtime simulator: refused a handshake (bad API key)")
            return json_error_response(
                HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        query = parse_qs(urlsplit(request.path).query)
        header, _ = _presented_key(request.headers)
        record = ConnectionRecord(
            id=len(self.connections) + 1,
            path=request.path,
            model=(query.get("model") or query.get("deployment") or [""])[0],
            auth_header=header,
        )
        self.connections.append(record)
        self._live.add(ws)
        timers = self._start_fault_timers(ws, record)
        try:
            await self._run_session(ws, record, request)
        finally:
            for timer in timers:
                timer.cancel()
            self._live.discard(ws)
            record.closed_at = time.monotonic()
            record.close_code = ws.close_code
            record.closed.set()

    async def _run_session(
        self, ws: ServerConnection, record: ConnectionRecord, request: Request
    ) -> None:
        faults = self.faults
        if faults.slow_start_ms:
            await asyncio.sleep(faults.slow_start_ms / 1000)
        session_class = EchoSession if self.config.mode == "echo" else Conversation
        session = session_class(ws, record, self.config)
        if "openai-beta" in request.headers:
            await session.error(
                "beta_api_shape_disabled",
                "The Realtime Beta API is no longer supported. Please use "
                "/v1/realtime for the GA API.",
            )
            await ws.close(4000, "beta_api_shape_disabled")
            return
        await session.run()

    def _start_fault_timers(
        self, ws: ServerConnection, record: ConnectionRecord
    ) -> list[asyncio.TimerHandle]:
        loop = asyncio.get_running_loop()
        timers = []
        if self.faults.expire_after_s is not None:
            timers.append(
                loop.call_later(
                    self.faults.expire_after_s,
                    lambda: self._spawn(self._expire(ws, record)),
                )
            )
        if self.faults.drop_after_s is not None:
            timers.append(loop.call_later(self.faults.drop_after_s, ws.transport.abort))
        return timers

    async def _expire(self, ws: ServerConnection, record: ConnectionRecord) -> None:
        event = {
            "type": "error",
            "event_id": "event_expired",
            "error": {
                "type": "invalid_request_error",
                "code": "session_expired",
                "message": EXPIRED_MESSAGE,
                "param": None,
                "event_id": None,
            },
        }
        record.sent.append(event)
        with contextlib.suppress(Exception):
            await ws.send(orjson.dumps(event).decode())
            await ws.close(1001, EXPIRED_MESSAGE)
