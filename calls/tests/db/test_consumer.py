"""MediaStreamConsumer through Channels' WebsocketCommunicator, with a scripted fake
Realtime connection injected via ``as_asgi(connect_engine=...)``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path
from websockets.asyncio.server import ServerConnection, serve

from calls.callstate import CallState
from calls.models import Call, TranscriptEntry
from calls.runtime import consumer_loop
from calls.runtime.media_consumer import MediaStreamConsumer
from calls.runtime.runner import CallRunner
from calls.services.routing import call_route
from calls.telephony import stream_token
from calls.tests.support.frames import (
    CALL_SID,
    STREAM_SID,
    rt_audio_done,
    rt_committed,
    rt_delta,
    rt_input_done,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    rt_speech_started,
    rt_speech_stopped,
    rt_transcript_done,
    tw_connected,
    tw_mark,
    tw_media,
    tw_start,
    tw_stop,
)
from calls.tests.support.frames.fakes import FakeConnector, FakeLeg
from calls.tests.support.twilio_signing import twilio_signature

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]

GREETING = "Thanks for calling ACME Dental, how can I help?"
USAGE = {
    "total_tokens": 30,
    "input_tokens": 20,
    "output_tokens": 10,
    "input_token_details": {"text_tokens": 15, "audio_tokens": 5},
    "output_token_details": {"text_tokens": 4, "audio_tokens": 6},
}


class Probe(MediaStreamConsumer):
    """Keeps the last instance, so tests can wait on its runner."""

    last: Probe | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        Probe.last = self


def runner() -> CallRunner:
    assert Probe.last is not None and Probe.last.runner is not None
    return Probe.last.runner


async def settled(check: Callable[[CallState], bool]) -> None:
    """Wait until the call state satisfies ``check`` (re-checked by the runner
    after every batch of actions it performs; no polling)."""
    current = runner()
    await current.wait_until(lambda: check(current.state))


@pytest.fixture
def call(phone_number: Any) -> Call:
    return call_route(
        call_sid=CALL_SID, from_number="+15557654321", to_number="+15550000001"
    ).call


def mint(call_sid: str = CALL_SID, now: float | None = None) -> str:
    return stream_token.mint(
        call_sid=call_sid,
        secret=settings.SECRET_KEY,
        ttl_seconds=60,
        now=time.time() if now is None else now,
    )


def media_route(consumer_app: Any) -> Any:
    """The media stream route (``Any``: django-stubs types ``path()`` for HTTP
    views only, see calls/routing.py)."""
    return path("twilio/media-stream/<str:token>/", consumer_app)


def communicator(
    connector: FakeConnector,
    token: str | None = None,
    signed: bool = True,
    app: Any = None,
) -> WebsocketCommunicator:
    app = app or URLRouter([media_route(Probe.as_asgi(connect_engine=connector))])
    url_path = f"/twilio/media-stream/{token or mint()}/"
    headers = [(b"host", b"voice.example.com")]
    if signed:
        signature = twilio_signature("wss://voice.example.com" + url_path, {})
        headers.append((b"x-twilio-signature", signature.encode()))
    return WebsocketCommunicator(app, url_path, headers=headers)


async def frames_until_close(comm: WebsocketCommunicator) -> tuple[list[str], int]:
    """Everything sent to Twilio up to the close, and the close code."""
    sent: list[str] = []
    while True:
        out = await comm.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            return sent, out.get("code", 1000)
        sent.append(out["text"])


async def start_without_fake(comm: WebsocketCommunicator) -> None:
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(tw_connected())
    await comm.send_to(tw_start())


async def start(comm: WebsocketCommunicator, leg: FakeLeg) -> None:
    await start_without_fake(comm)
    await leg.wait_for("session.update")


@database_sync_to_async
def fetch() -> tuple[Call, list[TranscriptEntry]]:
    call = Call.objects.get(call_sid=CALL_SID)
    return call, list(call.transcript_entries.order_by("seq"))


async def test_it_runs_a_call_and_records_it(call: Call) -> None:
    connector = FakeConnector()
    leg = connector.leg
    comm = communicator(connector)
    await start(comm, leg)
    assert connector.calls == [
        (
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1",
            {"Authorization": "Bearer sk-test"},
            settings.ENGINE_CONNECT_TIMEOUT,
        )
    ]
    await leg.wait_for("response.create")  # the greeting
    session = leg.sent[0]["session"]
    assert call.assistant is not None
    assert session["instructions"] == call.assistant.instructions
    assert session["audio"]["output"]["voice"] == "marin"
    assert GREETING in leg.sent[1]["response"]["instructions"]
    leg.push(rt_session_updated())
    await comm.send_to(tw_media())
    await leg.wait_for("input_audio_buffer.append")

    leg.push(
        rt_response_created("resp_g"),
        rt_item_added("resp_g", "item_G"),
        rt_delta("resp_g", "item_G"),
        rt_audio_done("resp_g", "item_G"),
        rt_transcript_done("resp_g", "item_G", GREETING),
        rt_response_done("resp_g", items=(("item_G", GREETING),), usage=USAGE),
    )
    media = await comm.receive_json_from(timeout=3)
    assert (media["event"], media["streamSid"]) == ("media", STREAM_SID)
    assert (await comm.receive_json_from(timeout=3))["mark"]["name"] == "item_G:100"
    await comm.send_to(tw_mark("item_G:100"))
    await settled(lambda s: s.speech.playback.live == [])  # the greeting has played

    leg.push(
        rt_speech_started("item_U1", 3000),
        rt_speech_stopped("item_U1"),
        rt_committed("item_U1"),
        rt_response_created("resp_1"),
        rt_item_added("resp_1", "item_A1"),
        rt_delta("resp_1", "item_A1"),
        rt_transcript_done("resp_1", "item_A1", "We open at nine."),
        rt_input_done("item_U1", "When do you open?"),
        rt_audio_done("resp_1", "item_A1"),
        rt_response_done(
            "resp_1", items=(("item_A1", "We open at nine."),), usage=USAGE
        ),
    )
    assert (await comm.receive_json_from(timeout=3))["event"] == "media"
    assert (await comm.receive_json_from(timeout=3))["mark"]["name"] == "item_A1:100"
    await settled(lambda s: s.transcript.caller_turns["item_U1"].written)
    await settled(lambda s: s.responses.active_response_id is None)
    await comm.send_to(tw_mark("item_A1:100"))
    await comm.send_to(tw_stop())
    assert await frames_until_close(comm) == ([], 1000)
    await comm.disconnect(timeout=5)
    assert leg.closed

    call, rows = await fetch()
    assert [(r.seq, r.role, r.text) for r in rows] == [
        (1, "assistant", GREETING),
        (2, "caller", "When do you open?"),
        (3, "assistant", "We open at nine."),
    ]
    assert rows[0].reply_latency_ms is None
    assert rows[2].reply_latency_ms is not None
    assert rows[2].heard_latency_ms is not None
    assert rows[1].offset_ms == 3000
    assert (call.status, call.end_reason, call.stream_sid) == (
        "completed",
        "caller_hung_up",
        STREAM_SID,
    )
    assert call.started_at is not None and call.ended_at is not None
    assert (call.input_tokens, call.output_tokens, call.output_audio_tokens) == (
        40,
        20,
        12,
    )
    assert call.bad_frames == 0


@pytest.mark.parametrize("case", ["unsigned", "garbage", "expired", "bad secret"])
async def test_it_refuses_an_unauthorised_upgrade(call: Call, case: str) -> None:
    token = {
        "garbage": "not-a-token",
        "expired": mint(now=time.time() - 3600),
        "bad secret": stream_token.mint(
            call_sid=CALL_SID,
            secret="other",
            ttl_seconds=60,
            now=time.time(),
        ),
    }.get(case)
    connector = FakeConnector()
    comm = communicator(connector, token, signed=case != "unsigned")
    connected, _ = await comm.connect()
    assert not connected
    assert connector.calls == []
    call_after, _ = await fetch()
    assert call_after.stream_claimed_at is None


async def test_it_refuses_a_reused_token(call: Call) -> None:
    token = mint()
    connector = FakeConnector()
    first = communicator(connector, token)
    await start(first, connector.leg)
    second = communicator(FakeConnector(), token)
    connected, _ = await second.connect()
    assert not connected
    await first.send_to(tw_stop())
    await first.disconnect(timeout=5)
    assert len(connector.calls) == 1


@pytest.mark.parametrize("early", [True, False])
async def test_it_refuses_a_start_for_another_call(
    call: Call, early: bool, settings: Any
) -> None:
    settings.ENGINE_CONNECT_ON_UPGRADE = early
    connector = FakeConnector()
    comm = communicator(connector)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(tw_start(call_sid="CA" + "f" * 32))
    assert await frames_until_close(comm) == ([], 4403)
    await comm.disconnect(timeout=5)
    assert connector.leg.sent == []  # nothing reached OpenAI
    assert len(connector.calls) == (1 if early else 0)
    assert connector.leg.closed is early
    call_after, _ = await fetch()
    assert call_after.end_reason == "auth_failed"


async def test_it_opens_the_leg_at_start_when_told_to_wait(
    call: Call, settings: Any
) -> None:
    settings.ENGINE_CONNECT_ON_UPGRADE = False
    # The deprecated deployment-wide choice, for an assistant that picks no engine.
    settings.REALTIME_PROVIDER = "azure"
    assert call.assistant is not None
    # The snapshot reads the assistant's tool rows: a query, so off the loop.
    snapshot = await database_sync_to_async(call.assistant.snapshot)()
    await database_sync_to_async(
        lambda: Call.objects.filter(pk=call.pk).update(assistant_snapshot=snapshot)
    )()
    connector = FakeConnector()
    comm = communicator(connector)
    assert (await comm.connect())[0]
    await asyncio.sleep(0.01)
    assert connector.calls == []
    await comm.send_to(tw_start())
    await connector.leg.wait_for("session.update")
    assert connector.calls[0][1] == {"api-key": "sk-test"}
    await comm.send_to(tw_stop())
    await comm.disconnect(timeout=5)


async def test_it_buffers_audio_while_the_leg_opens(call: Call) -> None:
    connector = FakeConnector()
    connector.gate = asyncio.Event()
    comm = communicator(connector)
    await comm.connect()
    await comm.send_to(tw_start())
    for _ in range(3):
        await comm.send_to(tw_media())
    await settled(lambda s: len(s.media.buffer) == 3)
    connector.gate.set()
    await connector.leg.wait_for("input_audio_buffer.append", 3)
    assert (
        connector.leg.types()[:4]
        == ["session.update"] + ["input_audio_buffer.append"] * 3
    )
    await comm.send_to(tw_stop())
    await comm.disconnect(timeout=5)


async def test_it_counts_malformed_frames_and_goes_on(call: Call) -> None:
    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)
    for text in ["{oops", '{"event": "dance"}', tw_media(stream_sid="MZx"), "[]"]:
        await comm.send_to(text)
    await comm.send_to(bytes_data=b"\x00binary")
    await comm.send_to(tw_media())
    await connector.leg.wait_for("input_audio_buffer.append")
    await comm.send_to(tw_stop())
    await frames_until_close(comm)
    await comm.disconnect(timeout=5)
    call_after, _ = await fetch()
    assert (call_after.bad_frames, call_after.end_reason) == (5, "caller_hung_up")


async def test_it_records_a_realtime_leg_that_cannot_open(call: Call) -> None:
    connector = FakeConnector(error=OSError("Connection refused"))
    comm = communicator(connector)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(tw_start())
    assert await frames_until_close(comm) == ([], 1000)
    await comm.disconnect(timeout=5)
    call_after, _ = await fetch()
    assert call_after.end_reason == "realtime_error"
    assert call_after.error == "Realtime connect failed: Connection refused"


async def test_it_keeps_the_transcript_when_the_leg_drops(call: Call) -> None:
    connector = FakeConnector()
    leg = connector.leg
    comm = communicator(connector)
    await start(comm, leg)
    leg.push(rt_speech_started("item_U1"), rt_input_done("item_U1", "Hello?"))
    await settled(lambda s: "item_U1" in s.transcript.caller_turns)
    leg.drop(1011, "server error")
    await frames_until_close(comm)
    await comm.disconnect(timeout=5)
    call_after, rows = await fetch()
    assert [r.text for r in rows] == ["Hello?"]
    assert call_after.end_reason == "realtime_disconnected"
    assert call_after.error == "Realtime connection closed (code 1011: server error)"


async def test_it_closes_the_leg_at_once_when_the_caller_hangs_up(call: Call) -> None:
    connector = FakeConnector()
    leg = connector.leg
    comm = communicator(connector)
    await start(comm, leg)
    leg.push(rt_response_created(), rt_item_added(), rt_delta(), rt_delta())
    await comm.receive_json_from(timeout=3)
    await comm.send_to(tw_stop())
    await leg.wait_closed()
    await comm.disconnect(timeout=5)
    call_after, _ = await fetch()
    assert call_after.end_reason == "caller_hung_up"
    leg_task = runner().leg_task
    assert leg_task is not None and leg_task.done()


async def test_it_handles_a_socket_closed_without_stop(call: Call) -> None:
    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)
    await comm.disconnect(code=1006, timeout=5)
    assert connector.leg.closed
    call_after, _ = await fetch()
    assert call_after.end_reason == "stream_closed"


async def test_it_handles_barge_in_end_to_end(call: Call) -> None:
    connector = FakeConnector()
    leg = connector.leg
    comm = communicator(connector)
    await start(comm, leg)
    leg.push(
        rt_response_created("resp_1"),
        rt_item_added("resp_1", "item_A1"),
        rt_delta(),
        rt_delta(),
        rt_delta(),
    )
    names = []
    for _ in range(6):
        frame = await comm.receive_json_from(timeout=3)
        if frame["event"] == "mark":
            names.append(frame["mark"]["name"])
    assert names == ["item_A1:100", "item_A1:200", "item_A1:300"]
    await comm.send_to(tw_mark("item_A1:100"))
    await settled(lambda s: s.speech.playback.turns["item_A1"].heard_ms == 100)
    leg.push(rt_speech_started("item_U2", 5000))
    assert await comm.receive_json_from(timeout=3) == {
        "event": "clear",
        "streamSid": STREAM_SID,
    }
    await leg.wait_for("conversation.item.truncate")
    assert leg.sent[-1] == {
        "type": "conversation.item.truncate",
        "item_id": "item_A1",
        "content_index": 0,
        "audio_end_ms": 100,
    }
    for name in names[1:]:  # Twilio flushes the rest after the clear
        await comm.send_to(tw_mark(name))
    leg.push(rt_delta())  # late audio of the cut answer
    leg.push(rt_transcript_done(transcript="One two three four five six"))
    await settled(lambda s: s.speech.playback.turns["item_A1"].written)
    await comm.send_to(tw_stop())
    assert await frames_until_close(comm) == ([], 1000)  # the late delta was dropped
    await comm.disconnect(timeout=5)
    _, rows = await fetch()
    assert [(r.text, r.interrupted) for r in rows] == [("One", True)]


async def test_it_ends_the_call_when_the_session_expires(call: Call) -> None:
    from calls.tests.support.frames import rt_error

    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)
    connector.leg.push(rt_error("session_expired", "Your session hit 60 minutes."))
    await frames_until_close(comm)
    await comm.disconnect(timeout=5)
    call_after, _ = await fetch()
    assert call_after.end_reason == "session_expired"
    assert "60 minutes" in call_after.error


async def test_audio_frames_skip_channels_per_message_db_cleanup(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    import channels.consumer

    hops = []

    async def counting() -> None:
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counting)
    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)
    before = len(hops)
    for _ in range(20):
        await comm.send_to(tw_media())
    await connector.leg.wait_for("input_audio_buffer.append", 20)
    assert len(hops) == before
    await comm.send_to(tw_stop())
    await comm.disconnect(timeout=5)


async def test_it_bridges_to_a_real_websocket_server(call: Call, settings: Any) -> None:
    """The default client (websockets) against a tiny GA-shaped server."""
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def server(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen["auth"] = ws.request.headers.get("Authorization")
        seen["path"] = ws.request.path
        seen["first"] = json.loads(await ws.recv())
        await ws.send(rt_session_updated())
        await ws.send(rt_response_created())
        await ws.send(rt_delta(nbytes=160))
        async for message in ws:
            seen.setdefault("rest", []).append(json.loads(message)["type"])
        done.set()

    async with serve(server, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        settings.OPENAI_REALTIME_URL = f"ws://127.0.0.1:{port}/v1/realtime"
        app = URLRouter([media_route(MediaStreamConsumer.as_asgi())])
        comm = communicator(FakeConnector(), app=app)
        await start_without_fake(comm)
        media = await comm.receive_json_from(timeout=3)
        assert media["media"]["payload"] == json.loads(rt_delta(nbytes=160))["delta"]
        assert (await comm.receive_json_from(timeout=3))["event"] == "mark"
        await comm.send_to(tw_media())
        await comm.send_to(tw_stop())
        await frames_until_close(comm)
        await comm.disconnect(timeout=5)
        async with asyncio.timeout(3):
            await done.wait()  # our side closed the leg
    assert seen["auth"] == "Bearer sk-test"
    assert seen["path"] == "/v1/realtime?model=gpt-realtime-2.1"
    assert seen["first"]["type"] == "session.update"
    assert seen["rest"] == ["response.create", "input_audio_buffer.append"]


async def test_it_runs_bridge_timers(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timers go through the consumer: here Twilio never sends start."""
    monkeypatch.setattr("calls.callstate.call.START_TIMEOUT_MS", 20)
    connector = FakeConnector()
    comm = communicator(connector)
    assert (await comm.connect())[0]
    assert await frames_until_close(comm) == ([], 1000)
    await comm.disconnect(timeout=5)
    assert connector.leg.closed  # the early leg did not outlive the call
    call_after, _ = await fetch()
    assert (call_after.end_reason, call_after.error) == (
        "stream_closed",
        "no start frame from Twilio",
    )


# A channel layer (Redis) that is unreachable: the call goes on, and its record
# says what is missing (it failed silently: the caller heard the apology, the call
# was "Failed" with no error, the cause only in the server log).


class DownLayer:
    """A channel layer whose Redis refuses every connection."""

    async def new_channel(self, prefix: str = "specific") -> str:
        return f"{prefix}.down!1"  # channels_redis names it without Redis

    async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 6399)")

    group_add = group_discard = group_send = send = receive = _refuse


async def test_the_call_goes_on_and_says_the_channel_layer_is_unreachable(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = DownLayer()
    monkeypatch.setattr(consumer_loop, "get_channel_layer", lambda alias: layer)
    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)  # the engine session opens: the call runs
    await comm.send_to(tw_stop())
    await comm.wait(timeout=3)
    ended, _ = await fetch()
    assert "The channel layer (Redis) is unreachable" in ended.error
    assert "staff could not hang up" in ended.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            socket.gaierror(-2, "Name or service not known"),
            "the address of Realtime could not be looked up (DNS)",
        ),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            "Realtime's TLS certificate could not be verified",
        ),
    ],
)
async def test_it_names_why_the_engine_could_not_be_reached(
    call: Call, error: Exception, expected: str
) -> None:
    connector = FakeConnector(error=error)
    comm = communicator(connector)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(tw_start())
    await frames_until_close(comm)
    await comm.disconnect(timeout=5)
    call_after, _ = await fetch()
    assert call_after.end_reason == "realtime_error"
    assert call_after.error.startswith(f"Realtime connect failed: {expected}")


async def test_an_upgrade_reset_before_accept_ends_the_call_and_leaves_no_spool(
    call: Call, settings: Any, tmp_path: Any
) -> None:
    """A reset mid-upgrade (the server cannot send the accept) ends the call at
    once as a closed stream, and closes and removes its recording's spool; it was
    left "ringing" until the sweeper called it lost, its spool files empty and
    open for good."""
    settings.RECORDING_SPOOL_DIR = str(tmp_path / "spool")
    call.assistant_snapshot = {**call.assistant_snapshot, "recording_enabled": True}
    await database_sync_to_async(call.save)(update_fields=["assistant_snapshot"])
    connector = FakeConnector()
    inner: Any = URLRouter([media_route(Probe.as_asgi(connect_engine=connector))])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def reset_on_accept(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                raise OSError(104, "Connection reset by peer")
            await send(message)

        await inner(scope, receive, reset_on_accept)

    comm = communicator(connector, app=app)
    with contextlib.suppress(BaseException):  # the upgrade fails, as it should
        await comm.connect(timeout=2)
    consumer = Probe.last
    assert consumer is not None
    assert (tmp_path / "spool").is_dir()  # the recording was set up
    ended, _ = await fetch()
    assert ended.ended_at is not None
    assert ended.end_reason == "stream_closed"
    assert list((tmp_path / "spool").glob("*")) == []
    await comm.wait(timeout=1)
