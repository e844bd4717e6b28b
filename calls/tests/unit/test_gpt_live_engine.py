"""The GPT-Live engine, pure: session.start, turns inferred from continuous audio
and timed transcript deltas, barge-in, usage seconds, close reasons, DTMF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from calls.callstate import SendEngine, SendTwilio
from calls.callstate.actions import AddUsage, EndCall, SaveTranscript
from calls.engines import base
from calls.engines.openai_live import LiveProtocol, is_silence
from calls.engines.openai_live import events as live
from calls.engines.openai_live.turns import ASSISTANT_SILENCE_MS
from calls.tests.support.frames import (
    mulaw_b64,
    tw_dtmf,
    tw_mark,
    tw_media,
    tw_start,
    tw_stop,
)
from calls.tests.support.frames.harness import persona
from calls.tests.support.live_frames import (
    SILENCE,
    SPEECH,
    LiveHarness,
    live_snapshot,
    lv_audio,
    lv_backend_completed,
    lv_closed,
    lv_error,
    lv_heard,
    lv_said,
    lv_started,
    lv_tool_call,
    lv_usage,
)

SILENT_FRAMES = ASSISTANT_SILENCE_MS // 20


def sent(actions: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(x.text) for x in actions if isinstance(x, SendEngine)]


def twilio(actions: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(x.text) for x in actions if isinstance(x, SendTwilio)]


def rows(actions: list[Any]) -> dict[int, SaveTranscript]:
    """The last version of each transcript row, by seq."""
    return {x.seq: x for x in actions if isinstance(x, SaveTranscript)}


def speak(h: LiveHarness, frames: int = 10) -> None:
    """The assistant talks; the caller's (silent) audio keeps the session clock."""
    for _ in range(frames):
        h.lv(lv_audio(SPEECH))
        h.tw(tw_media(mulaw_b64(160)))


def pause(h: LiveHarness, frames: int = SILENT_FRAMES) -> None:
    for _ in range(frames):
        h.lv(lv_audio(SILENCE))
        h.tw(tw_media(mulaw_b64(160)))


def test_it_recognises_mulaw_silence_without_decoding() -> None:
    assert is_silence(mulaw_b64(160)) and is_silence(mulaw_b64(161, 0x7F))
    assert is_silence(mulaw_b64(162)) and is_silence("")
    assert not is_silence(SPEECH)
    assert not is_silence(mulaw_b64(159) + "AA==")


def test_it_starts_the_session_and_waits_for_it_before_audio_and_greeting() -> None:
    h = LiveHarness(live_snapshot(greeting="Thanks for calling ACME!"))
    h.tw(tw_start())
    h.tw(tw_media())
    first = h.open()
    [start] = sent(first)
    assert start["type"] == "session.start"
    session = start["session"]
    assert session["model"] == "gpt-live-1.1"
    assert session["audio"] == {
        "format": {"type": "audio/pcmu", "rate": 8000},
        "output": {"voice": "marin"},
    }
    assert session["delegation"] == {
        "type": "responses",
        "responses": {
            "model": "gpt-5.6-luna",
            "tools": [],
            "tool_choice": "auto",
            "parallel_tool_calls": False,
            "instructions": "Never invent order data.",
        },
    }
    assert "turn_detection" not in json.dumps(session)
    h.tw(tw_media())  # still buffered: GPT-Live takes nothing before started
    assert sent(h.log) == [start]
    after = sent(h.lv(lv_started()))
    assert [e["type"] for e in after] == [
        "session.input_audio.append",
        "session.input_audio.append",
        "session.instructions.append",
    ]
    greeting = after[-1]
    assert greeting["delegation_id"] is None
    assert "Thanks for calling ACME!" in greeting["content"]
    assert "do not wait for the caller" in greeting["content"]
    assert greeting["event_id"] == "evt_greeting"


def test_it_groups_a_conversation_into_rows_in_order() -> None:
    h = LiveHarness(live_snapshot(greeting="Hello!")).ready()
    speak(h)  # the greeting
    h.lv(lv_said("Hello, ACME", 0))
    h.lv(lv_said(" here.", 200))
    pause(h)
    played = h.state.speech.playback.turns["live_item_1"].sent_ms
    h.tw(tw_mark(f"live_item_1:{played}"))  # Twilio played all of it
    assert h.protocol.turns.clock_ms == 800  # the session clock: caller audio
    for i in range(60):  # 1.2 s of caller audio in real time, from t=1 s
        h.tw(tw_media(mulaw_b64(160, 0x10)), at=1000 + 20 * i)
    h.lv(lv_heard("Where is", 1000), at=2200)  # transcripts lag the speech
    h.lv(lv_heard(" my order?", 1200), at=2300)
    h.now = 2400
    speak(h)  # the answer: the caller's turn closes first
    h.lv(lv_said("Let me check.", 2050))
    pause(h)
    h.lv(lv_said(" Right away.", 2300))  # late: its turn is already done
    h.lv(lv_said("Anything else?", 2850))  # early: the next turn's
    written = rows(h.log)
    assert [(r.seq, r.role, r.text) for r in written.values()] == [
        (1, "assistant", "Hello, ACME here."),
        (2, "caller", "Where is my order?"),
        (3, "assistant", "Let me check. Right away."),
    ]
    # Session time 1000 is the caller audio that reached us at t=1180.
    assert written[2].offset_ms == 1180
    # From when the audio of the caller's last word (end_ms 1400) reached us.
    assert written[3].reply_latency_ms == 2400 - (1000 + 1400 - 820)
    speak(h)
    pause(h)
    assert rows(h.log)[4].text == "Anything else?"


def test_the_greeting_is_ours_and_an_answer_is_the_models() -> None:
    h = LiveHarness(live_snapshot(greeting="Hello!")).ready()
    speak(h)
    pause(h)
    h.tw(tw_mark(f"live_item_1:{h.state.speech.playback.turns['live_item_1'].sent_ms}"))
    for i in range(25):  # the caller speaks in real time from t=1 s (audio 800 on)
        h.tw(tw_media(mulaw_b64(160, 0x10)), at=1000 + 20 * i)
    h.lv(lv_heard("Hi.", 820, 1000), at=1300)
    h.now = 1500
    speak(h)
    assert h.state.responses.purpose("live_resp_1") == "greeting"
    assert h.state.responses.purpose("live_resp_2") == ""
    turn = h.state.speech.playback.turns["live_item_2"]
    assert turn.reply_latency_ms == 1500 - (1000 + 1000 - 820)


def test_a_barge_in_clears_twilio_and_keeps_what_was_heard() -> None:
    h = LiveHarness().ready()
    speak(h, 50)  # 1 s of answer
    h.lv(lv_said("one two three four five six seven eight nine ten", 0))
    h.tw(tw_mark("live_item_1:500"))
    out = h.lv(lv_heard("Wait", 700))
    assert [f["event"] for f in twilio(out)] == ["clear"]
    assert sent(out) == []  # GPT-Live has no truncate
    turn = h.state.speech.playback.turns["live_item_1"]
    assert turn.interrupted and turn.heard_ms == 500
    row = rows(h.log)[1]
    assert row.interrupted and row.text == "one two three four five"
    # The cut turn's tail is not played; audio after the model goes quiet is.
    assert twilio(h.lv(lv_audio(SPEECH))) == []
    h.lv(lv_audio(SILENCE))
    h.lv(lv_heard(" a second", 900))
    h.lv(lv_said("Sure.", 1200))
    resumed = h.lv(lv_audio(SPEECH))
    assert [f["event"] for f in twilio(resumed)] == ["media", "mark"]
    assert rows(h.log)[2].text == "Wait a second"


def test_it_records_usage_seconds_as_increments_and_backend_tokens_once() -> None:
    h = LiveHarness().ready()
    usage = [a.usage for a in h.lv(lv_usage(61.0)) if isinstance(a, AddUsage)]
    usage += [a.usage for a in h.lv(lv_usage(61.4)) if isinstance(a, AddUsage)]
    usage += [a.usage for a in h.lv(lv_usage(75)) if isinstance(a, AddUsage)]
    usage += [a.usage for a in h.lv(lv_backend_completed()) if isinstance(a, AddUsage)]
    usage += [a.usage for a in h.lv(lv_backend_completed()) if isinstance(a, AddUsage)]
    assert usage == [
        {"session_seconds": 61},
        {"session_seconds": 14},
        {
            "input_tokens": 1510,
            "output_tokens": 42,
            "input_text_tokens": 1510,
            "output_text_tokens": 42,
            "cached_text_tokens": 1280,
        },
    ]


@pytest.mark.parametrize(
    ("reason", "end_reason"),
    [
        ("expired", "session_expired"),
        ("content", "realtime_error"),
        ("connection_lost", "realtime_error"),
        ("remote_hangup", "realtime_error"),
    ],
)
def test_a_session_closed_by_the_server_ends_the_call(
    reason: str, end_reason: str
) -> None:
    h = LiveHarness().ready()
    speak(h)
    h.lv(lv_said("Goodbye.", 0))
    out = h.lv(lv_closed(reason, seconds=9))
    assert rows(out)[1].text == "Goodbye."
    assert [a.usage for a in out if isinstance(a, AddUsage)] == [{"session_seconds": 9}]
    [end] = [a for a in out if isinstance(a, EndCall)]
    assert end.reason in (end_reason, "engine_error")
    assert f"session_{reason}" in end.error


def test_it_maps_errors_to_kinds_and_tags() -> None:
    protocol = LiveProtocol(persona())
    fatal = protocol.parse(lv_error("insufficient_quota"))
    start = protocol.parse(lv_error("unknown_parameter", "evt_session_start"))
    refused = protocol.parse(lv_error("invalid_value", "evt_greeting"))
    other = protocol.parse(lv_error(""))
    assert isinstance(fatal, base.EngineError) and fatal.kind == "fatal"
    assert isinstance(start, base.EngineError) and start.kind == "config_rejected"
    assert start.context == "session.start"
    assert isinstance(refused, base.EngineError) and refused.tag == "greeting"
    assert isinstance(other, base.EngineError) and other.code == "invalid_request_error"


def test_it_reports_a_session_that_differs_from_what_we_asked() -> None:
    protocol = LiveProtocol(persona(voice="cedar"))
    event = protocol.parse(lv_started(voice="marin"))
    assert isinstance(event, base.SessionConfigured)
    assert "voice 'marin'" in event.mismatch


def test_it_passes_dtmf_to_the_model_as_silent_context() -> None:
    h = LiveHarness().ready()
    out = h.tw(tw_dtmf("7"))
    assert rows(out)[1].text == "DTMF 7"
    [note] = sent(out)
    assert note["type"] == "session.thinking.append"
    assert note["delegation_id"] is None and "pressed 7" in note["content"]


def test_it_passes_backend_tool_calls_and_answers_them() -> None:
    h = LiveHarness().ready()
    event = h.protocol.parse(lv_tool_call())
    assert event == base.ToolCallRequested(
        "call_7", "lookup_order", '{"order_id":"A0042"}', "fc_1"
    )
    out = sent(h.state.on_tool_result("call_7", '{"ok":true}', 0))
    assert [e["type"] for e in out] == ["response.item.create", "response.create"]


def test_it_ignores_unknown_events_and_refuses_garbage() -> None:
    protocol = LiveProtocol(persona())
    assert protocol.parse(
        '{"type":"info","event_id":"e","code":"x","message":"y"}'
    ) == (base.Ignored("info"))
    with pytest.raises(base.EngineEventError):
        protocol.parse("not json")
    with pytest.raises(base.EngineEventError):
        protocol.parse('{"type":"session.input_transcript.delta","delta":"x"}')


def test_the_caller_hanging_up_ends_the_call() -> None:
    h = LiveHarness().ready()
    [end] = [a for a in h.tw(tw_stop()) if isinstance(a, EndCall)]
    assert end.reason == "caller_hung_up"


def test_builders_escape_what_they_must() -> None:
    text = live.audio_append("ab+/", json_safe=True)
    assert json.loads(text) == {"type": "session.input_audio.append", "audio": "ab+/"}
    assert json.loads(live.session_close())["type"] == "session.close"
