"""The benchmark's floor: the least work any Twilio-to-engine bridge does, as ASGI.

Served by the same server command as the project (``server.ServerGroup`` with
``server.FLOOR_APPLICATION``), it answers any POST with TwiML that connects a
media stream, and relays each stream's audio to the engine stand-in and back:
every Twilio ``media`` payload becomes one ``input_audio_buffer.append``, every
audio delta one Twilio ``media`` message. Nothing else: no signature check, no
database, no call state, no marks, no session set-up. The engine leg is picows,
as the project's own is by default (``ENGINE_WS_CLIENT`` "auto"), opened at the
upgrade, also as the project does. What the project costs above this floor is
its own work; what the floor costs is the server stack's and the machine's.

No Django: ``OPENAI_REALTIME_URL`` (the stand-in's URL) and ``OPENAI_API_KEY`` come
from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from picows import WSListener, WSMsgType, WSTransport, ws_connect

STREAM_PATH = "/floor-stream"
OPEN_TIMEOUT_S = 10.0
_DELTA = "response.output_audio.delta"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _EngineListener(WSListener):
    """Each audio delta from the stand-in, as Twilio ``media`` text, on a queue."""

    def __init__(self) -> None:
        self.out: asyncio.Queue[str | None] = asyncio.Queue()
        self.stream_sid = ""

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        event = orjson.loads(frame.get_payload_as_bytes())
        if event.get("type") == _DELTA:
            media = {
                "event": "media",
                "streamSid": self.stream_sid,
                "media": {"payload": event["delta"]},
            }
            self.out.put_nowait(orjson.dumps(media).decode())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.out.put_nowait(None)


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _relay(receive, send)
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


def twiml(host: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        f'<Stream url="wss://{host}{STREAM_PATH}"/></Connect></Response>'
    ).encode()


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass  # the webhook's form body: read, not looked at
    headers = dict(scope.get("headers") or [])
    if scope["method"] == "POST":
        body, kind = twiml(headers.get(b"host", b"").decode()), b"text/xml"
    else:  # the health check
        body, kind = b"ok", b"text/plain"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", kind)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _relay(receive: Receive, send: Send) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    url = os.environ["OPENAI_REALTIME_URL"]
    key = os.environ.get("OPENAI_API_KEY", "")
    transport, listener = await ws_connect(
        _EngineListener,
        url,
        extra_headers={"Authorization": f"Bearer {key}"},
        websocket_handshake_timeout=OPEN_TIMEOUT_S,
        use_aiofastnet=False,
    )
    assert isinstance(listener, _EngineListener)
    writer = asyncio.create_task(_to_twilio(listener.out, send))
    try:
        while (message := await receive())["type"] == "websocket.receive":
            event = orjson.loads(message.get("text") or message.get("bytes") or b"")
            kind = event.get("event")
            if kind == "media":
                append = {
                    "type": "input_audio_buffer.append",
                    "audio": event["media"]["payload"],
                }
                transport.send(WSMsgType.TEXT, orjson.dumps(append))
            elif kind == "start":
                listener.stream_sid = event["start"]["streamSid"]
            elif kind == "stop":
                break
    finally:
        transport.send_close()
        transport.disconnect()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    with contextlib.suppress(Exception):  # already closed by the caller
        await send({"type": "websocket.close", "code": 1000})


async def _to_twilio(out: asyncio.Queue[str | None], send: Send) -> None:
    while (text := await out.get()) is not None:
        await send({"type": "websocket.send", "text": text})
