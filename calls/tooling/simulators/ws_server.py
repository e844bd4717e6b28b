"""What the Realtime and GPT-Live simulators share: the WebSocket server's life
cycle, its JSON error answers, and running it on a background thread.

Each simulator subclasses ``WebSocketSimulator`` with its path, its handshake
check and its connection handler; ``BackgroundSimulator`` runs any of them on an
event loop of its own for synchronous callers (pytest fixtures, management
commands, the benchmark). Imports nothing from either simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, Generic, Protocol, TypeVar

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ServerSettings(Protocol):
    host: str
    port: int
    mode: str


C = TypeVar("C", bound=ServerSettings)


def json_error_response(status: HTTPStatus, code: str, message: str) -> Response:
    """An HTTP error answer to a handshake, in OpenAI's JSON error shape."""
    body = orjson.dumps(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "code": code,
                "param": None,
            }
        }
    )
    headers = Headers(
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return Response(status.value, status.phrase, headers, body)


class WebSocketSimulator(Generic[C]):
    """``await start()``, use ``.url``, ``await stop()``; subclasses handle."""

    path = "/"
    label = "simulator"

    def __init__(self, config: C, **overrides: object) -> None:
        self.config = config
        for name, value in overrides.items():
            if not hasattr(self.config, name):
                raise TypeError(f"unknown simulator option {name!r}")
            setattr(self.config, name, value)
        self.rejected_handshakes = 0
        self._server: Server | None = None
        self._live: set[ServerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        # websockets types it Iterable[socket]; asyncio's Server gives a tuple.
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"ws://{self.config.host}:{self.port}{self.path}"

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
        logger.info("%s (%s mode) at %s", self.label, self.config.mode, self.url)

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
        raise NotImplementedError

    async def _handle(self, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class AsyncSimulator(Protocol):
    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=AsyncSimulator)


class BackgroundSimulator(Generic[S]):
    """A simulator on its own event loop in a background thread. ``call`` runs a
    coroutine on that loop and returns its result; records can be read from any
    thread."""

    def __init__(self, simulator: S, *, thread_name: str) -> None:
        self.simulator = simulator
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=thread_name, daemon=True
        )

    @property
    def url(self) -> str:
        return self.simulator.url

    def start(self, timeout_s: float = 10.0) -> S:
        self._thread.start()
        self.call(self.simulator.start, timeout_s=timeout_s)
        return self.simulator

    def call(
        self,
        function: Callable[..., Coroutine[Any, Any, T]],
        *args: Any,
        timeout_s: float = 10.0,
    ) -> T:
        """Run ``function(*args)`` on the simulator's loop; wait for its result."""
        future = asyncio.run_coroutine_threadsafe(function(*args), self._loop)
        return future.result(timeout_s)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.call(self.simulator.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> S:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
