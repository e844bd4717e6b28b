"""A fake Twilio-side server for the call simulator: webhooks over HTTP in a thread,
the media stream over websockets, checking the signatures real Twilio traffic
carries and playing scripted server behaviour."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
)

TOKEN = "fake-auth-token"
PUBLIC = "https://voice.example.com"
STREAM_URL = PUBLIC.replace("https", "wss") + "/twilio/media-stream/tok123/"
GOODBYE = "<Response><Say>Sorry, goodbye.</Say><Hangup/></Response>"


@dataclass
class FakeTwilioServer:
    """Webhooks over HTTP in a thread; the media stream over websockets."""

    behaviour: (
        Callable[[FakeTwilioServer, ServerConnection], Awaitable[None]] | None
    ) = None
    requests: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    upgrade_signature_ok: bool | None = None
    refuse_upgrade: bool = False
    http_port: int = 0
    ws_port: int = 0
    frames_during_playback: int = 0
    action_twiml: str = GOODBYE  # the <Connect action> answer
    redirect_twiml: str = "<Response><Hangup/></Response>"  # /twilio/redirected/

    def twiml(self) -> str:
        response = VoiceResponse()
        response.say("This call may be recorded.")
        connect = Connect(action=PUBLIC + "/twilio/stream-ended/")
        connect.stream(url=STREAM_URL).parameter(name="greeting", value="yes")
        response.append(connect)
        return str(response)

    def http_answer(self, path: str) -> tuple[int, str]:
        valid = self.requests[-1][2]
        if not valid:
            return 403, "bad signature"
        if path == "/twilio/voice/":
            return 200, self.twiml()
        if path == "/twilio/stream-ended/":
            return 200, self.action_twiml
        if path == "/twilio/redirected/":
            return 200, self.redirect_twiml
        return 204, ""

    async def media(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # set once the handshake is done
        signature = ws.request.headers.get("X-Twilio-Signature", "")
        self.upgrade_signature_ok = RequestValidator(TOKEN).validate(
            STREAM_URL, {}, signature
        )
        try:
            if self.behaviour is not None:
                await self.behaviour(self, ws)
            async for message in ws:
                self.messages.append(json.loads(message))
        except ConnectionClosed:
            pass

    async def next_message(self, ws: ServerConnection, event: str) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            self.messages.append(message)
            if message.get("event") == event:
                return message

    def of(self, event: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("event") == event]


def _handler(server: FakeTwilioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            params = dict(urllib.parse.parse_qsl(body))
            url = PUBLIC + self.path
            valid = RequestValidator(TOKEN).validate(
                url, params, self.headers.get("X-Twilio-Signature", "")
            )
            server.requests.append((self.path, params, valid))
            status, text = server.http_answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.asynccontextmanager
async def running_fake() -> AsyncIterator[FakeTwilioServer]:
    """A ``FakeTwilioServer`` listening on free ports (also for other modules)."""
    server = FakeTwilioServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.http_port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def refuse(connection: ServerConnection, request: Any) -> Any:
        if server.refuse_upgrade:
            return connection.respond(403, "forbidden")
        return None

    try:
        async with serve(
            server.media, "127.0.0.1", 0, process_request=refuse
        ) as ws_server:
            server.ws_port = next(iter(ws_server.sockets)).getsockname()[1]
            yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def options(fake: FakeTwilioServer, **kwargs: Any) -> CallerOptions:
    return CallerOptions(
        base_url=f"http://127.0.0.1:{fake.http_port}",
        stream_base_url=f"http://127.0.0.1:{fake.ws_port}",
        public_url=PUBLIC,
        auth_token=TOKEN,
        to_number="+15550000001",
        **kwargs,
    )
