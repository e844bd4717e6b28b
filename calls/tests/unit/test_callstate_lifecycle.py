"""CallState, pure: start checks, max duration, errors, bad input, the end."""

from __future__ import annotations

import json
import logging

import pytest

from calls.callstate import CallStarted, EndCall, StartTimer, actions
from calls.tests.support.frames import (
    STREAM_SID,
    rt_audio_done,
    rt_delta,
    rt_error,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    tw_connected,
    tw_dtmf,
    tw_mark,
    tw_media,
    tw_start,
    tw_stop,
)
from calls.tests.support.frames.harness import (
    Harness,
    of_type,
    realtime_out,
    snapshot,
    twilio_out,
)


def ended(h: Harness) -> EndCall:
    (end,) = of_type(h.log, EndCall)
    assert isinstance(end, EndCall)
    return end


# -- start ------------------------------------------------------------------


def test_it_starts_the_call_and_the_max_duration_timer() -> None:
    h = Harness(snapshot(max_call_duration_seconds=60))
    actions_ = h.tw(tw_start())
    assert CallStarted(STREAM_SID) in actions_
    assert StartTimer("max_duration", 60_000) in actions_


def test_it_gives_up_when_twilio_never_sends_start() -> None:
    h = Harness()
    assert h.state.on_accepted(0) == [StartTimer("start_timeout", 10_000)]
    h.open()
    assert h.timer("start_timeout") == [
        EndCall("stream_closed", "no start frame from Twilio", None)
    ]
    late = Harness()
    late.tw(tw_start())
    assert late.timer("start_timeout") == []


def test_it_refuses_a_start_for_another_call() -> None:
    h = Harness()
    h.open()
    out = h.tw(tw_start(call_sid="CAffffffffffffffffffffffffffffffff"))
    (end,) = of_type(out, EndCall)
    assert out == [EndCall("auth_failed", end.error, 4403)]
    assert "callSid" in end.error
    assert realtime_out(h.log) == []  # nothing reached OpenAI


@pytest.mark.parametrize(
    ("stream_sid", "account_sid"),
    [
        ("MZ1", "AC" + "0" * 32),
        ("MZ" + "0" * 32 + "\u0000", "AC" + "0" * 32),
        ("MZ" + "a" * 33, "AC" + "0" * 32),
        ("MZ" + "0" * 32, "AC1"),
    ],
)
def test_it_refuses_a_start_with_a_malformed_sid(
    stream_sid: str, account_sid: str
) -> None:
    h = Harness()
    start = json.loads(tw_start(stream_sid=stream_sid))
    start["start"]["accountSid"] = account_sid
    out = h.tw(json.dumps(start))
    (end,) = of_type(out, EndCall)
    assert (end.reason, end.close_code) == ("auth_failed", 4403)
    assert realtime_out(h.log) == []


def test_it_refuses_a_stream_sid_that_is_not_json_safe() -> None:
    h = Harness()
    out = h.tw(tw_start(stream_sid='MZ"injected'))
    (end,) = of_type(out, EndCall)
    assert out == [end]
    assert (end.reason, end.close_code) == ("auth_failed", 4403)


# -- max call duration ----------------------------------------------------------


def goodbye_plays(h: Harness) -> None:
    h.rt(rt_response_created("resp_bye"))
    h.rt(rt_item_added("resp_bye", "item_bye"))
    h.rt(rt_delta("resp_bye", "item_bye"))
    h.rt(rt_delta("resp_bye", "item_bye"))
    h.rt(rt_audio_done("resp_bye", "item_bye"))
    h.rt(rt_response_done("resp_bye", items=(("item_bye", "Goodbye!"),)))


def test_it_says_goodbye_at_max_duration_and_hangs_up_once_it_played() -> None:
    h = Harness().ready()
    out = h.timer("max_duration")
    assert StartTimer("goodbye_timeout", 15_000) in out
    (create,) = realtime_out(out)
    assert create["type"] == "response.create"
    assert create["response"]["instructions"] == (
        "Tell the caller the maximum call time is reached and say goodbye."
    )
    assert h.tw(tw_media()) == []  # the caller can no longer start a new turn
    goodbye_plays(h)
    assert of_type(h.log, EndCall) == []  # still playing at Twilio
    h.tw(tw_mark("item_bye:100"))
    assert of_type(h.log, EndCall) == []
    h.tw(tw_mark("item_bye:200"))
    assert ended(h) == EndCall("max_duration", "", None)


def test_it_lets_the_current_answer_finish_before_the_goodbye() -> None:
    h = Harness().ready()
    h.rt(rt_response_created("resp_1"))
    h.rt(rt_delta())
    assert realtime_out(h.timer("max_duration")) == []
    out = realtime_out(h.rt(rt_response_done("resp_1")))
    assert [e["type"] for e in out] == ["response.create"]


def test_it_retries_a_goodbye_refused_for_an_active_response() -> None:
    h = Harness().ready()
    h.timer("max_duration")
    h.rt(rt_response_created("resp_vad"))  # the model started one meanwhile
    h.rt(rt_error("conversation_already_has_active_response", event_id="evt_goodbye"))
    assert h.state.call_end.goodbye.stage == "pending"
    out = realtime_out(h.rt(rt_response_done("resp_vad")))
    assert [e["type"] for e in out] == ["response.create"]


def test_it_hangs_up_anyway_when_the_goodbye_never_finishes() -> None:
    h = Harness().ready()
    h.timer("max_duration")
    h.rt(rt_response_created("resp_bye"))
    h.rt(rt_delta("resp_bye", "item_bye"))
    assert h.timer("goodbye_timeout") == [EndCall("max_duration", "", None)]


def test_it_hangs_up_at_max_duration_before_the_leg_is_ready() -> None:
    h = Harness()
    h.tw(tw_start())
    assert h.timer("max_duration") == [EndCall("max_duration", "", None)]


# -- Realtime errors and the leg's lifecycle ------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("session_expired", "session_expired"),
        ("invalid_api_key", "realtime_error"),
        ("beta_api_shape_disabled", "realtime_error"),
        ("insufficient_quota", "realtime_error"),
    ],
)
def test_it_ends_the_call_on_fatal_errors(code: str, reason: str) -> None:
    h = Harness().ready()
    h.rt(rt_error(code, "It is over."))
    assert ended(h) == EndCall(reason, f"{code}: It is over.", None)
    # The close that follows does not replace the reason.
    assert h.state.on_engine_closed(1001, "bye", h.now) == []


def test_it_ends_the_call_when_a_response_fails_for_lack_of_quota() -> None:
    h = Harness().ready()
    error = {
        "type": "insufficient_quota",
        "code": "insufficient_quota",
        "message": "You exceeded your current quota.",
    }
    h.rt(rt_response_done(status="failed", items=(), error=error))
    assert ended(h).reason == "realtime_error"


@pytest.mark.parametrize(
    "code",
    [
        "response_cancel_not_active",
        "conversation_already_has_active_response",
        "rate_limit_exceeded",
    ],
)
def test_it_logs_and_continues_after_non_fatal_errors(code: str) -> None:
    h = Harness().ready()
    assert h.rt(rt_error(code)) == []
    assert not h.state.ended
    assert h.tw(tw_media()) != []


def test_it_ends_the_call_at_once_when_the_session_update_is_rejected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness().ready()
    with caplog.at_level(logging.WARNING):
        h.rt(
            rt_error(
                "unknown_parameter",
                "Unknown parameter 'session.x'.",
                param="session.x",
                event_id="evt_session_update",
            )
        )
    assert "session.update rejected" in caplog.text
    assert h.state.ended
    end = ended(h)
    assert end.reason == actions.ENGINE_ERROR
    assert end.close_code is None  # a normal close: the caller hears the apology
    assert end.error == (
        "session.update rejected: unknown_parameter: Unknown parameter 'session.x'."
    )


def test_it_ends_the_call_on_an_error_that_leaves_the_session_unusable() -> None:
    h = Harness().ready()
    h.rt(rt_error("model_not_found", "The model does not exist."))
    end = ended(h)
    assert end.reason == actions.ENGINE_ERROR
    assert "model_not_found" in end.error


def test_it_carries_on_after_a_refused_response_request() -> None:
    h = Harness().ready()
    h.rt(rt_error("invalid_value", "Bad instructions.", event_id="evt_model"))
    assert not h.state.ended


def test_it_warns_when_the_session_echo_differs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness().ready()
    with caplog.at_level(logging.WARNING):
        assert h.rt(rt_session_updated()) == []
    assert "differs" not in caplog.text
    with caplog.at_level(logging.WARNING):
        h.rt(rt_session_updated(voice="alloy", out_fmt="audio/pcm"))
    assert "session.updated differs" in caplog.text


def test_it_records_a_leg_that_could_not_open() -> None:
    h = Harness()
    h.tw(tw_start())
    out = h.state.on_engine_failed("HTTP 401")
    assert out == [EndCall("realtime_error", "Realtime connect failed: HTTP 401")]


def test_it_records_a_leg_that_dropped_mid_call() -> None:
    h = Harness().ready()
    out = h.state.on_engine_closed(1006, "", h.now)
    assert out == [
        EndCall("realtime_disconnected", "Realtime connection closed (code 1006)")
    ]


# -- bad input ----------------------------------------------------------------


def test_it_counts_and_ignores_bad_twilio_input() -> None:
    h = Harness()
    h.tw(tw_media())  # media before start
    h.tw(tw_start())
    h.open()
    bad = [
        "{not json",
        "[1, 2]",
        '{"event": "bogus"}',
        '{"event": "media", "streamSid": "MZ1"}',
        '{"event": "mark", "streamSid": "' + STREAM_SID + '"}',
        tw_dtmf("55"),
        tw_media(stream_sid="MZother"),
        tw_mark("not-ours"),
        tw_start(),  # a second start
        '{"event": "media", "media": {"payload": "' + "A" * 70_000 + '"}}',
    ]
    for text in bad:
        assert h.tw(text) == []
    assert h.state.on_twilio_binary(b"\x00\x01") == []
    assert h.state.bad_frames == len(bad) + 2
    assert realtime_out(h.tw(tw_media()))  # the call goes on
    assert not h.state.ended


def test_it_counts_and_ignores_garbage_from_realtime() -> None:
    h = Harness().ready()
    for text in [
        "nope",
        "42",
        '{"no": "type"}',
        '{"type": "response.output_audio.delta", "item_id": 5}',
        '{"type": "response.created"}',
        b"\xff\xfe",
    ]:
        assert h.rt(text) == []  # type: ignore[arg-type]
    assert h.state.bad_frames == 6
    assert not h.state.ended


def test_it_rate_limits_bad_input_warnings(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness().ready()
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            h.tw("garbage")
    assert len(caplog.records) == 5
    assert h.state.bad_frames == 20


# -- the end ------------------------------------------------------------------


def test_stop_means_the_caller_hung_up() -> None:
    h = Harness().ready()
    h.tw(tw_connected())
    assert h.tw(tw_stop()) == [EndCall("caller_hung_up", "", None)]
    assert h.tw(tw_stop()) == []


def test_a_closed_twilio_socket_ends_the_stream() -> None:
    h = Harness().ready()
    assert h.state.on_twilio_closed(0) == [EndCall("stream_closed", "", None)]


def test_a_stop_for_another_stream_is_ignored() -> None:
    h = Harness().ready()
    assert h.tw(tw_stop(stream_sid="MZother")) == []
    assert h.state.bad_frames == 1


def test_end_reasons_and_roles_are_the_models_choices() -> None:
    from calls.models import EndReason, TranscriptRole

    reasons = {
        actions.CALLER_HUNG_UP,
        actions.MAX_DURATION,
        actions.ENGINE_ERROR,
        actions.ENGINE_DISCONNECTED,
        actions.SESSION_EXPIRED,
        actions.STREAM_CLOSED,
        actions.AUTH_FAILED,
        actions.ASSISTANT_ENDED,
        actions.SILENCE_TIMEOUT,
    }
    assert reasons <= set(EndReason.values)
    assert {actions.CALLER, actions.ASSISTANT, actions.SYSTEM, actions.TOOL} == set(
        TranscriptRole.values
    )


def test_twilio_frames_never_go_out_before_start() -> None:
    h = Harness()
    h.open()
    h.rt(rt_delta())
    assert twilio_out(h.log) == []
