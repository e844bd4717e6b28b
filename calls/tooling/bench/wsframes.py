"""WebSocket framing (RFC 6455) for the benchmark's own lean client and echo server.

The load generator and the echo stand-in each carry hundreds of streams from one
process beside the server under test, so they frame messages here, without a
task or a stream reader per message: ``encode`` builds one frame (masked from a
client, as the RFC requires), ``FrameReader.feed`` returns the complete frames in
what arrived. Fragmented messages are reassembled; control frames pass through.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Iterator

try:  # the C helper websockets ships (a runtime dependency); else one big-int XOR
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets without its C extension

    def apply_mask(data: bytes, mask: bytes) -> bytes:
        size = len(data)
        repeated = (mask * (size // 4 + 1))[:size]
        value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
        return value.to_bytes(size, "little")


GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1(key.encode() + GUID).digest()
    return base64.b64encode(digest).decode()


def encode(opcode: int, payload: bytes, *, masked: bool) -> bytes:
    """One final frame; ``masked`` (with a fresh random key) for a client."""
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(payload, key)


class FrameReader:
    """Splits received bytes into ``(opcode, payload)`` messages."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._fragments: list[bytes] = []
        self._opcode = OP_TEXT

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            size, offset = second & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            key = b""
            if second & 0x80:
                key, offset = bytes(buffer[offset : offset + 4]), offset + 4
            if len(buffer) < offset + size:
                return
            payload = bytes(buffer[offset : offset + size])
            del buffer[: offset + size]
            if key:
                payload = apply_mask(payload, key)
            message = self._message(first & 0x80, first & 0x0F, payload)
            if message is not None:
                yield message

    def _message(
        self, fin: int, opcode: int, payload: bytes
    ) -> tuple[int, bytes] | None:
        if opcode >= OP_CLOSE:
            return opcode, payload
        if opcode != OP_CONTINUATION:
            self._opcode = opcode
        if fin and not self._fragments:
            return opcode, payload
        self._fragments.append(payload)
        if not fin:
            return None
        message = b"".join(self._fragments)
        self._fragments = []
        return self._opcode, message
