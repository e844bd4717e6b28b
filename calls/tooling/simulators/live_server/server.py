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
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from calls.tooling.simulators.live_server.config import LiveConfig
from calls.tooling.simulators.live_server.session import LiveSession
from calls.tooling.simulators.realtime_server.config import Faults
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.server import _json_response

logger = logging.getLogger(__name__)

PATH = "/v1/live/sessions"
T = TypeVar("T")


class LiveSimulator:
    """A local GPT-Live stand-in: ``await start()``, use ``.url``, ``stop()``."""

    def __init__(self, config: LiveConfig | None = None, **overrides: object) -> None:
        self.config = config or LiveConfig()
        for name, value in overrides.items():
            if not hasattr(self.config, name):
                raise TypeError(f"unknown simulator option {name!r}")
            setattr(self.config, name, value)
        self.connections: list[ConnectionRecord] = []
        self.sessions: list[LiveSession] = []
        self.rejected_handshakes = 0
        self._server: Server | None = None
        self._live: set[ServerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return next(iter(self._server.sockets)).getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://{self.config.host}:{self.port}{PATH}"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._check_handshake,
            compression=None,
            max_size=16 * 1024 * 1024,
            ping_interval=None,
        )
        logger.info("GPT-Live simulator (%s mode) at %s", self.config.mode, self.url)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)
        self._server = None

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != PATH:
            self.rejected_handshakes += 1
            return _json_response(
                HTTPStatus.NOT_FOUND, "not_found", f"Unknown path {parts.path}."
            )
        if parts.query:
            self.rejected_handshakes += 1
            return _json_response(
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
            return _json_response(
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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class LiveSimulatorThread:
    """A ``LiveSimulator`` on its own event loop in a background thread."""

    def __init__(self, config: LiveConfig | None = None, **overrides: Any) -> None:
        self.simulator = LiveSimulator(config, **overrides)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="live-simulator", daemon=True
        )

    @property
    def url(self) -> str:
        return self.simulator.url

    def start(self, timeout_s: float = 10.0) -> LiveSimulator:
        self._thread.start()
        self.call(self.simulator.start, timeout_s=timeout_s)
        return self.simulator

    def call(
        self,
        function: Callable[..., Coroutine[Any, Any, T]],
        *args: Any,
        timeout_s: float = 10.0,
    ) -> T:
        future = asyncio.run_coroutine_threadsafe(function(*args), self._loop)
        return future.result(timeout_s)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.call(self.simulator.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> LiveSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
