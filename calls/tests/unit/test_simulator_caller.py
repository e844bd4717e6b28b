"""The Twilio call simulator against a tiny fake server (no Django, no bridge).

The fake checks what real Twilio traffic must look like: signatures on the webhook
and on the stream upgrade, the message order and field types of the stream, and it
plays scripted server behaviour (audio, marks, clear, echo, hang-up). The REST
stand-in (``TwilioRestApi``) is driven here with plain HTTP; the product's client
for it is tested in ``test_twilio_rest``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import VoiceResponse
from websockets.asyncio.server import ServerConnection

from calls.tests.support.fake_twilio import (
    GOODBYE,
    PUBLIC,
    STREAM_URL,
    TOKEN,
    FakeTwilioServer,
    options,
    running_fake,
)
from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller import (
    BargeIn,
    Dtmf,
    HangUp,
    Pause,
    Speak,
    TwilioCaller,
    TwilioRestApi,
    WaitForReply,
    echo_script,
    new_sid,
    parse_twiml,
    run_calls,
    twiml_verbs,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioServer]:
    async with running_fake() as server:
        yield server


@pytest.fixture
def rest_api() -> Iterator[TwilioRestApi]:
    with TwilioRestApi(auth_token=TOKEN) as api:
        yield api


def rest_request(
    api: TwilioRestApi,
    call_sid: str,
    params: dict[str, str] | None = None,
    *,
    password: str = TOKEN,
) -> tuple[int, dict[str, Any], str]:
    """One request to the stand-in, as Twilio's helper would send it: status,
    JSON body, and the ``WWW-Authenticate`` header."""
    url = f"{api.base_url}/2010-04-01/Accounts/{api.account_sid}/Calls/{call_sid}.json"
    data = None if params is None else urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(url, data=data)
    basic = base64.b64encode(f"{api.account_sid}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), ""
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "")
        return exc.code, json.loads(exc.read()), challenge


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
    assert first.speech_end_ms is not None
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
    assert report.next_twiml == GOODBYE
    assert report.next_twiml_from == "connect-action"
    assert report.after_stream == [("say", "Sorry, goodbye."), ("hangup",)]
    assert report.said_after_stream == ["Sorry, goodbye."]
    assert report.hung_up_by_twiml is True
    assert report.dialed == ""


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


def test_it_lists_a_dial_with_its_caller_id() -> None:
    response = VoiceResponse()
    response.dial("+15551112222", caller_id="+15550000001")
    assert twiml_verbs(str(response)) == [("dial", "+15551112222", "+15550000001")]

    nested = VoiceResponse()
    dial = nested.dial(caller_id="+15550000001", action="/twilio/dial-ended/")
    dial.number("+15553334444", send_digits="ww12")
    nested.say("Twilio requests the action instead of reading this.")
    assert twiml_verbs(str(nested)) == [("dial", "+15553334444", "+15550000001")]


def test_it_lists_a_hangup_and_ignores_what_follows_it() -> None:
    assert twiml_verbs("<Response><Hangup/></Response>") == [("hangup",)]
    document = "<Response><Hangup/><Say>never heard</Say></Response>"
    assert twiml_verbs(document) == [("hangup",)]


def test_it_lists_a_say_then_a_hangup_in_order() -> None:
    response = VoiceResponse()
    response.say("We are transferring you.")
    response.pause(length=1)
    response.play(digits="1234")
    response.hangup()
    assert twiml_verbs(str(response)) == [
        ("say", "We are transferring you."),
        ("pause", "1"),
        ("digits", "1234"),
        ("hangup",),
    ]
    assert twiml_verbs("<Response/>") == []


async def test_it_reports_a_transfer_answered_by_the_connect_action(
    fake: FakeTwilioServer,
) -> None:
    async def hang_up(server: FakeTwilioServer, ws: ServerConnection) -> None:
        await server.next_message(ws, "start")
        await ws.close(1000)

    transfer = VoiceResponse()
    transfer.say("Connecting you to the front desk.")
    transfer.dial("+15551112222", caller_id="+15550000001")
    fake.behaviour = hang_up
    fake.action_twiml = str(transfer)
    report = await TwilioCaller(options(fake, script=[Pause(5000), HangUp()])).run()
    assert report.errors == []
    assert report.after_stream == [
        ("say", "Connecting you to the front desk."),
        ("dial", "+15551112222", "+15550000001"),
    ]
    assert report.dialed == "+15551112222"
    assert report.dial_caller_id == "+15550000001"
    assert report.hung_up_by_twiml is False
    assert report.said_after_stream == ["Connecting you to the front desk."]


async def test_it_records_a_connect_action_answer_that_is_not_twiml(
    fake: FakeTwilioServer,
) -> None:
    async def hang_up(server: FakeTwilioServer, ws: ServerConnection) -> None:
        await server.next_message(ws, "start")
        await ws.close(1000)

    fake.behaviour = hang_up
    fake.action_twiml = "sorry, not XML"
    report = await TwilioCaller(options(fake, script=[Pause(5000), HangUp()])).run()
    assert report.next_twiml == "sorry, not XML"
    assert report.after_stream == []
    assert len(report.errors) == 1 and "not XML" in report.errors[0]
    # The call still ends as Twilio would end it: with the status callback.
    assert fake.requests[-1][0] == "/twilio/status/"


def _update_live_call(
    api: TwilioRestApi, params: dict[str, str]
) -> Callable[[FakeTwilioServer, ServerConnection], Awaitable[None]]:
    """A server behaviour: once the stream started, update its call over REST."""

    async def behaviour(server: FakeTwilioServer, ws: ServerConnection) -> None:
        start = await server.next_message(ws, "start")
        call_sid = start["start"]["callSid"]
        status, body, _ = await asyncio.to_thread(rest_request, api, call_sid, params)
        assert status == 200, body

    return behaviour


async def test_it_ends_the_stream_when_the_call_is_completed_over_rest(
    fake: FakeTwilioServer, rest_api: TwilioRestApi
) -> None:
    fake.behaviour = _update_live_call(rest_api, {"Status": "completed"})
    script = [Pause(5000), HangUp()]
    report = await TwilioCaller(options(fake, script=script, rest_api=rest_api)).run()

    assert report.errors == []
    assert report.hung_up_by == "rest"
    assert report.rest_updates == ["completed"]
    assert report.duration_ms < 4000
    assert report.account_sid == rest_api.account_sid
    assert fake.messages[1]["start"]["accountSid"] == rest_api.account_sid
    # Twilio sends stop and closes; the call is over, so no <Connect action>.
    assert len(fake.of("stop")) == 1
    assert [path for path, _, _ in fake.requests] == [
        "/twilio/voice/",
        "/twilio/status/",
    ]
    assert report.next_twiml_from == "" and report.after_stream == []
    (request,) = rest_api.requests_for(report.call_sid)
    assert (request.method, request.params, request.status) == (
        "POST",
        {"Status": "completed"},
        200,
    )
    assert rest_api.calls[report.call_sid].status == "completed"


async def test_it_runs_the_twiml_of_a_rest_redirect_next(
    fake: FakeTwilioServer, rest_api: TwilioRestApi
) -> None:
    transfer = VoiceResponse()
    transfer.say("Transferring you now.")
    transfer.dial("+15551112222", caller_id="+15550000001")
    fake.behaviour = _update_live_call(rest_api, {"Twiml": str(transfer)})
    script = [Pause(5000), HangUp()]
    report = await TwilioCaller(options(fake, script=script, rest_api=rest_api)).run()

    assert report.errors == []
    assert report.hung_up_by == "rest"
    assert report.rest_updates == ["twiml"]
    assert len(fake.of("stop")) == 1
    assert "/twilio/stream-ended/" not in [path for path, _, _ in fake.requests]
    assert report.next_twiml == str(transfer)
    assert report.next_twiml_from == "rest-twiml"
    assert report.after_stream == [
        ("say", "Transferring you now."),
        ("dial", "+15551112222", "+15550000001"),
    ]
    assert report.dialed == "+15551112222"
    assert rest_api.calls[report.call_sid].twiml_updates == [str(transfer)]
    # The simulated call ended, so the stand-in now reports it completed.
    status, body, _ = rest_request(rest_api, report.call_sid)
    assert (status, body["status"]) == (200, "completed")


async def test_it_fetches_the_url_of_a_rest_redirect_signed(
    fake: FakeTwilioServer, rest_api: TwilioRestApi
) -> None:
    url = PUBLIC + "/twilio/redirected/"
    fake.behaviour = _update_live_call(rest_api, {"Url": url})
    script = [Pause(5000), HangUp()]
    report = await TwilioCaller(options(fake, script=script, rest_api=rest_api)).run()

    assert report.errors == []
    assert report.next_twiml_from == "rest-url"
    assert report.hung_up_by_twiml is True
    paths = [(path, ok) for path, _, ok in fake.requests]
    assert paths == [
        ("/twilio/voice/", True),
        ("/twilio/redirected/", True),
        ("/twilio/status/", True),
    ]
    assert rest_api.calls[report.call_sid].url_updates == [url]


def test_it_answers_rest_requests_in_twilios_shapes(rest_api: TwilioRestApi) -> None:
    sid = new_sid("CA")
    rest_api.register(sid, from_number="+15557654321", to_number="+15550000001")

    status, call, _ = rest_request(rest_api, sid)
    assert status == 200
    assert (call["sid"], call["status"], call["account_sid"]) == (
        sid,
        "in-progress",
        rest_api.account_sid,
    )
    assert (call["from"], call["to"], call["api_version"]) == (
        "+15557654321",
        "+15550000001",
        "2010-04-01",
    )
    assert call["uri"].endswith(f"/Calls/{sid}.json")

    status, error, challenge = rest_request(rest_api, sid, password="wrong")
    assert (status, error["code"], error["status"]) == (401, 20003, 401)
    assert challenge.startswith("Basic")

    status, error, _ = rest_request(rest_api, new_sid("CA"))
    assert (status, error["code"]) == (404, 20404)
    assert set(error) == {"code", "message", "more_info", "status"}

    assert rest_request(rest_api, sid, {"Status": "completed"})[0] == 200
    status, error, _ = rest_request(rest_api, sid, {"Twiml": "<Response/>"})
    assert (status, error["code"]) == (400, 21220)
    assert [r.status for r in rest_api.requests] == [200, 401, 404, 200, 400]
    assert all(r.username == rest_api.account_sid for r in rest_api.requests)


def test_it_ignores_a_cancel_of_a_call_already_answered(
    rest_api: TwilioRestApi,
) -> None:
    updates: list[str] = []
    sid = new_sid("CA")
    rest_api.register(sid, on_update=lambda update: updates.append(update.kind))
    status, call, _ = rest_request(rest_api, sid, {"Status": "canceled"})
    assert (status, call["status"], updates) == (200, "in-progress", [])
    rest_request(rest_api, sid, {"Twiml": "<Response><Hangup/></Response>"})
    assert updates == ["twiml"]
