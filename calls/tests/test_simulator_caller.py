"""The Twilio call simulator against a tiny fake server (no Django, no bridge).

The fake checks what real Twilio traffic must look like: signatures on the webhook
and on the stream upgrade, the message order and field types of the stream, and it
plays scripted server behaviour (audio, marks, clear, echo, hang-up).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller import (
    BargeIn,
    CallerOptions,
    Dtmf,
    HangUp,
    Pause,
    Speak,
    TwilioCaller,
    WaitForReply,
    echo_script,
    parse_twiml,
    run_calls,
)

TOKEN = "fake-auth-token"
PUBLIC = "https://voice.example.com"
STREAM_URL = PUBLIC.replace("https", "wss") + "/twilio/media-stream/tok123/"


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
            return 200, "<Response><Say>Sorry, goodbye.</Say><Hangup/></Response>"
        return 204, ""

    async def media(self, ws: ServerConnection) -> None:
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
            message = json.loads(await ws.recv())
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


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioServer]:
    server = FakeTwilioServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.http_port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def refuse(connection: ServerConnection, request: Any) -> Any:
        if server.refuse_upgrade:
            return connection.respond(403, "forbidden")
        return None

    async with serve(server.media, "127.0.0.1", 0, process_request=refuse) as ws_server:
        server.ws_port = ws_server.sockets[0].getsockname()[1]
        yield server
    httpd.shutdown()
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


def payload(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def send_audio(ws: ServerConnection, stream_sid: str, data: bytes) -> None:
    for chunk in audio.frames(data):
        media = {
            "event": "media",
            "streamSid": stream_sid,
            "media": {"payload": payload(chunk)},
        }
        await ws.send(json.dumps(media))


def test_it_parses_twiml_from_twilios_helper() -> None:
    document = FakeTwilioServer().twiml()
    twiml = parse_twiml(document)
    assert twiml.says == ["This call may be recorded."]
    assert twiml.stream_url == STREAM_URL
    assert twiml.stream_parameters == {"greeting": "yes"}
    assert twiml.connect_action == PUBLIC + "/twilio/stream-ended/"
    assert parse_twiml("<Response><Hangup/></Response>").hangup


async def test_it_places_a_signed_call_and_follows_the_stream_protocol(
    fake: FakeTwilioServer,
) -> None:
    async def greet(server: FakeTwilioServer, ws: ServerConnection) -> None:
        start = await server.next_message(ws, "start")
        sid = start["streamSid"]
        await send_audio(ws, sid, audio.speech_like(300))
        await ws.send(
            json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "g:300"}})
        )

    fake.behaviour = greet
    script = [WaitForReply(quiet_ms=100), Dtmf("5"), Speak(200), HangUp()]
    report = await TwilioCaller(options(fake, script=script)).run()

    assert report.errors == []
    assert report.webhook_status == 200
    assert report.says == ["This call may be recorded."]
    assert report.custom_parameters == {"greeting": "yes"}
    assert fake.upgrade_signature_ok is True
    assert [path for path, _, ok in fake.requests if ok] == [
        "/twilio/voice/",
        "/twilio/status/",
    ]
    voice = fake.requests[0][1]
    assert voice["CallStatus"] == "ringing"
    assert voice["CallSid"].startswith("CA") and len(voice["CallSid"]) == 34
    assert fake.requests[1][1]["CallStatus"] == "completed"

    events = [m["event"] for m in fake.messages]
    assert events[:2] == ["connected", "start"]
    assert events[-1] == "stop"
    start = fake.messages[1]["start"]
    assert start["callSid"] == report.call_sid == voice["CallSid"]
    assert start["streamSid"] == report.stream_sid and report.stream_sid.startswith(
        "MZ"
    )
    assert start["customParameters"] == {"greeting": "yes"}
    assert start["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }
    assert start["tracks"] == ["inbound"]
    sequence = [int(m["sequenceNumber"]) for m in fake.messages[1:]]
    assert sequence == list(range(1, len(sequence) + 1))
    media = fake.of("media")
    assert [m["media"]["chunk"] for m in media[:3]] == ["1", "2", "3"]
    assert [m["media"]["timestamp"] for m in media[:3]] == ["0", "20", "40"]
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in media)
    assert fake.of("dtmf")[0]["dtmf"] == {"track": "inbound_track", "digit": "5"}
    assert report.marks_returned == ["g:300"]
    assert fake.of("mark")[0]["mark"]["name"] == "g:300"
    assert report.audio_bytes_played == report.audio_bytes_received == 2400
    assert report.hung_up_by == "caller"
    assert report.frames_sent == len(media)


async def test_it_returns_marks_after_playback_or_at_once(
    fake: FakeTwilioServer,
) -> None:
    async def marks(server: FakeTwilioServer, ws: ServerConnection) -> None:
        sid = (await server.next_message(ws, "start"))["streamSid"]
        await ws.send(
            json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "idle"}})
        )
        await server.next_message(ws, "mark")
        media_before = len(server.of("media"))
        await send_audio(ws, sid, audio.speech_like(200))
        await ws.send(
            json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "played"}})
        )
        await server.next_message(ws, "mark")
        # 200 ms of audio plays over at least ten 20 ms ticks.
        server.frames_during_playback = len(server.of("media")) - media_before

    fake.behaviour = marks
    report = await TwilioCaller(options(fake, script=[Pause(600), HangUp()])).run()
    assert report.marks_returned == ["idle", "played"]
    assert fake.frames_during_playback >= 9


async def test_it_clears_the_queue_and_returns_pending_marks(
    fake: FakeTwilioServer,
) -> None:
    async def clear(server: FakeTwilioServer, ws: ServerConnection) -> None:
        sid = (await server.next_message(ws, "start"))["streamSid"]
        await send_audio(ws, sid, audio.speech_like(2000))
        for name in ("a", "b"):
            await ws.send(
                json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}})
            )
        await asyncio.sleep(0.2)
        await ws.send(json.dumps({"event": "clear", "streamSid": sid}))

    fake.behaviour = clear
    report = await TwilioCaller(options(fake, script=[Pause(500), HangUp()])).run()
    assert report.clears == 1
    assert report.marks_returned == ["a", "b"]
    assert report.audio_bytes_cleared > 0
    assert report.audio_bytes_played + report.audio_bytes_cleared == 16000


async def test_it_measures_reply_latency_and_barges_in(fake: FakeTwilioServer) -> None:
    async def answer_after_speech(
        server: FakeTwilioServer, ws: ServerConnection
    ) -> None:
        sid = (await server.next_message(ws, "start"))["streamSid"]
        voiced = 0
        while True:
            frame = (await server.next_message(ws, "media"))["media"]["payload"]
            if audio.frame_energy(frame) > 0.01:
                voiced += 1
            elif voiced >= 5:
                break
        await send_audio(ws, sid, audio.speech_like(1500))

    fake.behaviour = answer_after_speech
    script = [Speak(300), BargeIn(after_ms=200, speak_ms=300), Pause(100), HangUp()]
    report = await TwilioCaller(options(fake, script=script)).run()
    assert report.errors == []
    first, barge = report.turns
    assert first.reply_latency_ms is not None and first.reply_latency_ms > 0
    assert barge.barge_in and barge.speech_start_ms > first.speech_end_ms
    assert report.audio_bytes_played >= 200 * 8


async def test_it_measures_echo_round_trips_with_tagged_frames(
    fake: FakeTwilioServer,
) -> None:
    async def echo(server: FakeTwilioServer, ws: ServerConnection) -> None:
        sid = (await server.next_message(ws, "start"))["streamSid"]
        async for message in ws:
            event = json.loads(message)
            if event["event"] == "media":
                back = {
                    "event": "media",
                    "streamSid": sid,
                    "media": {"payload": event["media"]["payload"]},
                }
                await ws.send(json.dumps(back))

    fake.behaviour = echo
    reports = await run_calls(
        [options(fake, script=echo_script(seconds=0.4), stream_tag=9)], stagger_ms=0
    )
    report = reports[0]
    assert report.tagged_sent == 20
    assert report.tagged_received == 20
    assert report.frames_lost == 0 and report.foreign_frames == 0
    assert len(report.rtts_ms) == 20
    assert set(report.rtt_summary()) == {"min", "median", "p95", "max"}


async def test_it_follows_the_connect_action_when_the_server_hangs_up(
    fake: FakeTwilioServer,
) -> None:
    async def hang_up(server: FakeTwilioServer, ws: ServerConnection) -> None:
        await server.next_message(ws, "start")
        await ws.close(1000)

    fake.behaviour = hang_up
    report = await TwilioCaller(options(fake, script=[Pause(5000), HangUp()])).run()
    assert report.hung_up_by == "server"
    assert report.close_code == 1000
    assert report.says == ["This call may be recorded.", "Sorry, goodbye."]
    paths = [path for path, _, ok in fake.requests if ok]
    assert paths == ["/twilio/voice/", "/twilio/stream-ended/", "/twilio/status/"]
    assert fake.of("stop") == []


async def test_it_reports_a_refused_upgrade_and_signs_with_a_wrong_token_on_request(
    fake: FakeTwilioServer,
) -> None:
    fake.refuse_upgrade = True
    report = await TwilioCaller(options(fake, tamper_signature=True)).run()
    assert report.handshake_status == 403
    assert fake.upgrade_signature_ok is None  # never reached the handler
    assert "refused" in report.errors[0]


async def test_it_reports_a_refused_webhook(fake: FakeTwilioServer) -> None:
    opts = options(fake)
    opts.auth_token = "not-the-token"
    report = await TwilioCaller(opts).run()
    assert report.webhook_status == 403
    assert report.stream_sid == ""
    assert report.errors == ["voice webhook answered HTTP 403"]


def test_it_alters_only_the_token_when_tampering() -> None:
    from calls.tooling.simulators.twilio_caller.caller import tamper_last_segment

    assert tamper_last_segment(STREAM_URL) == STREAM_URL.replace("tok123", "tokA23")
    assert tamper_last_segment("wss://h/x/abAcd/") == "wss://h/x/abBcd/"


def test_it_models_twilios_playback_buffer() -> None:
    from calls.tooling.simulators.twilio_caller.playback import Playback

    playback = Playback(now=0.0)
    assert playback.mark("idle") == ["idle"]  # nothing queued: due at once
    playback.add(400)
    assert playback.mark("m1") == []
    playback.add(160)
    assert playback.mark("m2") == []
    assert playback.tick(0.02) == (160, [])
    assert playback.tick(0.04) == (160, [])
    assert playback.tick(0.06) == (160, ["m1"])
    assert playback.clear(0.07) == (80, ["m2"])
    assert playback.tick(0.08) == (0, [])
    assert playback.quiet_since == 0.07 and playback.bursts == 1
