"""Both Realtime clients leave nothing open when their connect is cancelled.

A caller who hangs up while the upgrade is still opening the Realtime leg cancels
the leg's connect; a socket left open there is a billed Realtime session. A local
WebSocket server counts open connections; each test cancels the connect at a
different point (every loop step of a fast handshake, a handshake the server
holds, a handshake that completes as the cancel arrives) and checks the server
sees every connection closed promptly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from calls.engines.openai_realtime import picows_client, websockets_client

Connect = Callable[..., Awaitable[Any]]
CLIENTS = [
    pytest.param(picows_client.connect, id="picows"),
    pytest.param(websockets_client.connect, id="websockets"),
]
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSED_WITHIN_SECONDS = 2.0


class CountingServer:
    """A bare WebSocket server: answers the handshake (unless held), then reads
    until the client goes away, counting connections that are still open."""

    def __init__(self) -> None:
        self.open = 0
        self.accepted = 0
        self.hold = False
        self.request_seen = asyncio.Event()
        self.answered = asyncio.Event()
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime"

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.open += 1
        self.accepted += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.request_seen.set()
            while self.hold:
                if reader.at_eof():
                    return
                await asyncio.sleep(0.01)
                if await _peer_gone(reader):
                    return
            key = _header(head, b"sec-websocket-key")
            accept = base64.b64encode(
                hashlib.sha1(key + GUID.encode()).digest()
            ).decode()
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept.encode()
                + b"\r\n\r\n"
            )
            self.answered.set()
            # Any frame (the client's close) or EOF: the connection is over.
            await reader.read(65536)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            self.closed.set()
            writer.close()

    async def wait_all_closed(self) -> bool:
        async def until_none_open() -> None:
            while self.open:
                self.closed.clear()
                await self.closed.wait()

        try:
            await asyncio.wait_for(until_none_open(), CLOSED_WITHIN_SECONDS)
        except TimeoutError:
            return False
        return True


async def _peer_gone(reader: asyncio.StreamReader) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(1), 0.01)
    except TimeoutError:
        return False
    return data == b""


def _header(head: bytes, name: bytes) -> bytes:
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    raise AssertionError(f"no {name!r} header")


@pytest.fixture
async def server() -> AsyncIterator[CountingServer]:
    counting = CountingServer()
    counting.server = await asyncio.start_server(counting.handle, "127.0.0.1", 0)
    yield counting
    counting.server.close()


async def _cancelled(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        leg = await task
        await leg.close()  # it won the race: a caller would close it too


@pytest.mark.parametrize("connect", CLIENTS)
async def test_it_leaves_no_socket_open_when_cancelled_at_any_step(
    connect: Connect, server: CountingServer
) -> None:
    # Loop steps first (before and through the TCP connect), then growing
    # delays (through the handshake and just past it).
    points = [("steps", n) for n in range(30)] + [("ms", n / 4) for n in range(30)]
    for unit, amount in points:
        task = asyncio.ensure_future(connect(server.url, headers={}, open_timeout=10))
        if unit == "steps":
            for _ in range(int(amount)):
                await asyncio.sleep(0)
        else:
            await asyncio.sleep(amount / 1000)
        await _cancelled(task)
        assert await server.wait_all_closed(), f"left open after {amount} {unit}"
    assert server.accepted > 20  # most points reached the server


@pytest.mark.parametrize("connect", CLIENTS)
async def test_it_closes_a_held_handshake_at_once_when_cancelled(
    connect: Connect, server: CountingServer
) -> None:
    server.hold = True
    task = asyncio.ensure_future(connect(server.url, headers={}, open_timeout=10))
    await asyncio.wait_for(server.request_seen.wait(), 5)
    assert server.open == 1
    await _cancelled(task)
    # Not after the 10 s handshake timeout: now.
    assert await server.wait_all_closed()


@pytest.mark.parametrize("connect", CLIENTS)
async def test_it_closes_a_handshake_that_completes_as_it_is_cancelled(
    connect: Connect, server: CountingServer
) -> None:
    for _ in range(10):
        server.answered.clear()
        task = asyncio.ensure_future(connect(server.url, headers={}, open_timeout=10))
        await asyncio.wait_for(server.answered.wait(), 5)
        await _cancelled(task)  # the 101 is on its way or already read
        assert await server.wait_all_closed()
