"""A lean Realtime echo stand-in for the benchmark: appended audio comes straight back.

Speaks the same subset as the Realtime simulator's echo mode (``session.created``
on connect; ``session.update`` answered with ``session.updated``; each
``input_audio_buffer.append`` answered at once by a ``response.output_audio.delta``
with the same payload, inside one response and item; ``response.create`` answered
with an empty completed response), but on asyncio's Protocol API with the
benchmark's own framing: no task, no stream reader and no JSON parse per audio
frame. The simulator costs about as much CPU per call as the server under test,
which a 2-core machine cannot spare at 200 calls; this costs a fraction of it.

``python -m calls.tooling.bench.echo --port 8765`` serves ``ws://127.0.0.1:8765/v1/realtime``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
from typing import Any, cast

import orjson

from calls.tooling.bench import wsframes
from calls.tooling.bench.wsclient import MAX_HEAD_BYTES, parse_head
from calls.tooling.bench.wsframes import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT

_APPEND = b'"input_audio_buffer.append"'
_AUDIO = b'"audio":"'
_ids = itertools.count(1)


class EchoProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.open = False
        self.reader = wsframes.FrameReader()
        number = next(_ids)
        self.response_id = f"resp_echo{number}"
        self.item_id = f"item_echo{number}"
        self.responding = False
        self.delta_head = (
            b'{"type":"response.output_audio.delta","response_id":"'
            + self.response_id.encode()
            + b'","item_id":"'
            + self.item_id.encode()
            + b'","output_index":0,"content_index":0,"delta":"'
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self.open:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > MAX_HEAD_BYTES:
                    self._refuse(b"431 Request Header Fields Too Large")
                return
            data = bytes(self.head[end + 4 :])
            if not self._handshake(bytes(self.head[:end]).decode("latin-1")):
                return
        for opcode, payload in self.reader.feed(data):
            if opcode == OP_TEXT:
                self._text(payload)
            elif opcode == OP_PING:
                self._write(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                self._write(OP_CLOSE, payload[:2])
                assert self.transport is not None
                self.transport.close()

    def _handshake(self, head: str) -> bool:
        _, headers = parse_head(head)
        key = headers.get("sec-websocket-key", "")
        if not key or not (headers.get("authorization") or headers.get("api-key")):
            self._refuse(b"401 Unauthorized")
            return False
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + wsframes.accept_key(key).encode()
            + b"\r\n\r\n"
        )
        self.open = True
        self._send(
            {"type": "session.created", "session": {"object": "realtime.session"}}
        )
        return True

    def _refuse(self, status: bytes) -> None:
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
        self.transport.close()

    def _text(self, payload: bytes) -> None:
        if _APPEND in payload:
            start = payload.find(_AUDIO)
            end = payload.find(b'"', start + len(_AUDIO)) if start >= 0 else -1
            if end > start >= 0:
                if not self.responding:
                    self._open_response()
                audio = payload[start + len(_AUDIO) : end]
                self._write(OP_TEXT, self.delta_head + audio + b'"}')
                return
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind == "session.update":
            self._send({"type": "session.updated", "session": event.get("session")})
        elif kind == "response.create":
            response = {"id": f"resp_{next(_ids)}", "object": "realtime.response"}
            self._send({"type": "response.created", "response": response})
            done: dict[str, object] = {
                **response,
                "status": "completed",
                "output": [],
                "usage": None,
            }
            self._send({"type": "response.done", "response": done})

    def _open_response(self) -> None:
        self.responding = True
        item = {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        self._send(
            {
                "type": "response.created",
                "response": {"id": self.response_id, "status": "in_progress"},
            }
        )
        self._send(
            {
                "type": "response.output_item.added",
                "response_id": self.response_id,
                "output_index": 0,
                "item": item,
            }
        )

    def _send(self, event: dict[str, Any]) -> None:
        event["event_id"] = f"event_{next(_ids)}"
        self._write(OP_TEXT, orjson.dumps(event))

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(wsframes.encode(opcode, payload, masked=False))


async def serve(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(EchoProtocol, host, port)
    print(  # noqa: T201 - a CLI entry point
        f"echo stand-in listening on ws://{host}:{port}/v1/realtime", flush=True
    )
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m calls.tooling.bench.echo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop  # optional: cheaper still, when installed

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options.host, options.port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
