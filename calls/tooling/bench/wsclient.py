"""A minimal WebSocket client on asyncio's Protocol API, for the load generator.

The benchmark runs hundreds of simulated Twilio streams from one process on a
2-core machine that also runs the server, so the load generator must cost as
little as possible: the full ``websockets`` client adds a task wake-up and a
stream-reader hop per message, which at 200 calls is most of a core. This client
does only what a Twilio stream needs: the upgrade handshake, masked text frames
out, text frames in (``wsframes``), ping/pong and close. ``on_text`` runs straight
from ``data_received``; nothing here allocates a task per message.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable, Mapping
from typing import cast

from calls.tooling.bench import wsframes
from calls.tooling.bench.wsframes import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT

MAX_HEAD_BYTES = 16 * 1024


class HandshakeError(OSError):
    """The server did not answer the upgrade with 101 Switching Protocols."""

    def __init__(self, status: int, head: str) -> None:
        super().__init__(f"upgrade refused: HTTP {status}")
        self.status = status
        self.head = head


def parse_head(head: str) -> tuple[str, dict[str, str]]:
    """The first line and the (lower-cased) headers of an HTTP message head."""
    first, *lines = head.split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }
    return first, headers


class WebSocketClient(asyncio.Protocol):
    """One client connection; ``on_text(str)`` and ``on_close()`` are the outputs."""

    def __init__(
        self, on_text: Callable[[str], None], on_close: Callable[[], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        self.on_text = on_text
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.open = False
        self.closed = loop.create_future()
        self._upgraded = loop.create_future()
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._head = bytearray()
        self._reader = wsframes.FrameReader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; same interface.
        self.transport = cast(asyncio.Transport, transport)

    def send_upgrade(self, host: str, path: str, headers: Mapping[str, str]) -> None:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        assert self.transport is not None
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def upgraded(self) -> None:
        """Wait for the 101 answer; raises ``HandshakeError`` or ``OSError``."""
        await self._upgraded

    def connection_lost(self, exc: Exception | None) -> None:
        was_open, self.open = self.open, False
        if not self._upgraded.done():
            self._upgraded.set_exception(exc or ConnectionResetError("closed"))
        if not self.closed.done():
            self.closed.set_result(None)
        if was_open:
            self.on_close()

    def send_text(self, text: str) -> None:
        if self.open:
            self._write(OP_TEXT, text.encode())

    def close(self, code: int = 1000) -> None:
        if self.open:
            self._write(OP_CLOSE, struct.pack("!H", code))
            self.open = False

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None:
            self.transport.write(wsframes.encode(opcode, payload, masked=True))

    def data_received(self, data: bytes) -> None:
        if not self._upgraded.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_HEAD_BYTES:
                    self._fail(HandshakeError(0, "response head too large"))
                return
            head = bytes(self._head[:end]).decode("latin-1")
            data = bytes(self._head[end + 4 :])
            if not self._check_head(head):
                return
        for opcode, payload in self._reader.feed(data):
            self._message(opcode, payload)

    def _check_head(self, head: str) -> bool:
        status_line, headers = parse_head(head)
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        accept = headers.get("sec-websocket-accept")
        if status != 101 or accept != wsframes.accept_key(self._key):
            self._fail(HandshakeError(status, head))
            return False
        self.open = True
        self._upgraded.set_result(None)
        return True

    def _fail(self, exc: Exception) -> None:
        if not self._upgraded.done():
            self._upgraded.set_exception(exc)
        self.abort()

    def _message(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            self.on_text(payload.decode("utf-8", "replace"))
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            if self.open:
                self._write(OP_CLOSE, payload[:2])
            self.open = False
            if self.transport is not None:
                self.transport.close()
