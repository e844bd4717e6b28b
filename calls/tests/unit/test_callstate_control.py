"""CallState, pure: staff hang-up and transfer, tool results, shutdown; and its
parts (playback, transcript, responses, the goodbye) used alone."""

from __future__ import annotations

from calls.callstate import EndCall, OpenEngine, SaveTranscript, StartTimer
from calls.callstate.actions import TIMER_GOODBYE
from calls.callstate.goodbye import Goodbyes
from calls.callstate.playback import TwilioPlayback
from calls.callstate.responses import GOODBYE, GREETING, Responses
from calls.callstate.transcript import Transcript
from calls.callstate.turns import AssistantTurn
from calls.tests.support.frames import (
    STREAM_SID,
    mulaw_b64,
    rt_audio_done,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_speech_started,
    rt_speech_stopped,
    tw_mark,
    tw_media,
    tw_start,
)
from calls.tests.support.frames.harness import (
    Harness,
    of_type,
    realtime_out,
    twilio_out,
)


def ends(h: Harness) -> list[EndCall]:
    return of_type(h.log, EndCall)


def test_it_hangs_up_at_once_and_says_who_asked() -> None:
    h = Harness().ready()
    out = h.state.hang_up("alice", h.now)
    (row,) = of_type(out, SaveTranscript)
    assert (row.role, row.text) == ("system", "Hung up by alice")
    assert of_type(out, EndCall) == [
        EndCall("hung_up_by_staff", "", None, ended_by="alice")
    ]
    assert h.state.hang_up("bob", h.now) == []  # already ending


def test_it_transfers_without_a_message_at_once() -> None:
    h = Harness().ready()
    out = h.state.transfer("+15550002222", "", "alice", h.now)
    (row,) = of_type(out, SaveTranscript)
    assert row.text == "Transferred to +15550002222 by alice"
    assert of_type(out, EndCall) == [
        EndCall("transferred", "", None, "alice", "+15550002222")
    ]


def test_it_says_the_transfer_message_then_ends_once_it_played() -> None:
    h = Harness().ready()
    out = h.state.transfer("+15550002222", "Transferring you now", "alice", h.now)
    assert StartTimer("goodbye_timeout", 15_000) in out
    (create,) = realtime_out(out)
    assert create["type"] == "response.create"
    assert create["event_id"] == "evt_goodbye"
    assert "Transferring you now" in create["response"]["instructions"]
    assert h.tw(tw_media()) == []  # the caller's audio no longer goes on
    h.rt(rt_response_created("resp_t"))
    h.rt(rt_item_added("resp_t", "item_t"))
    h.rt(rt_delta("resp_t", "item_t"))
    h.rt(rt_audio_done("resp_t", "item_t"))
    h.rt(rt_response_done("resp_t", items=(("item_t", "Transferring you now."),)))
    assert ends(h) == []  # still playing at Twilio
    h.tw(tw_mark("item_t:100"))
    assert ends(h) == [EndCall("transferred", "", None, "alice", "+15550002222")]


def test_it_cuts_the_current_answer_off_for_a_transfer_message() -> None:
    h = Harness().ready()
    h.rt(rt_response_created("resp_1"))
    h.rt(rt_item_added("resp_1", "item_A1"))
    h.rt(rt_delta("resp_1", "item_A1"))
    h.tw(tw_mark("item_A1:100"))
    h.rt(rt_delta("resp_1", "item_A1"))
    out = h.state.transfer("+15550002222", "One moment", "alice", h.now)
    assert {"event": "clear", "streamSid": STREAM_SID} in twilio_out(out)
    sent = [e["type"] for e in realtime_out(out)]
    # Truncated at what was heard, the answer cancelled; the message waits for
    # the cancelled response to finish.
    assert sent == ["conversation.item.truncate", "response.cancel"]
    assert realtime_out(out)[0]["audio_end_ms"] == 100
    after = realtime_out(h.rt(rt_response_done("resp_1", status="cancelled")))
    assert [e["type"] for e in after] == ["response.create"]
    assert "One moment" in after[0]["response"]["instructions"]


def test_it_does_not_let_the_caller_barge_in_on_the_transfer_message() -> None:
    h = Harness().ready()
    h.state.transfer("+15550002222", "One moment", "alice", h.now)
    h.rt(rt_response_created("resp_t"))
    h.rt(rt_delta("resp_t", "item_t"))
    assert twilio_out(h.rt(rt_speech_started("item_U9"))) == []


def test_it_ends_with_the_transfer_when_the_message_never_finishes() -> None:
    h = Harness().ready()
    h.state.transfer("+15550002222", "One moment", "alice", h.now)
    assert h.timer("goodbye_timeout") == [
        EndCall("transferred", "", None, "alice", "+15550002222")
    ]


def test_it_transfers_at_once_when_the_leg_is_not_configured_yet() -> None:
    h = Harness()
    h.tw(tw_start())
    out = h.state.transfer("+15550002222", "One moment", "alice", h.now)
    assert of_type(out, EndCall)[0].reason == "transferred"


def test_it_ends_a_max_duration_goodbye_with_a_transfer_asked_meanwhile() -> None:
    h = Harness().ready()
    h.timer("max_duration")
    out = h.state.transfer("+15550002222", "One moment", "alice", h.now)
    assert of_type(out, EndCall) == [
        EndCall("transferred", "", None, "alice", "+15550002222")
    ]


def test_it_refuses_a_second_transfer_during_the_first_ones_message() -> None:
    h = Harness().ready()
    h.state.transfer("+15550002222", "One moment", "alice", h.now)
    assert h.state.transfer("+15550003333", "", "bob", h.now) == []
    assert "asked by alice is already under way" in h.state.transfer_refusal
    assert h.timer("goodbye_timeout") == [
        EndCall("transferred", "", None, "alice", "+15550002222")
    ]
    assert h.state.transfer_refusal == ""  # ended: nothing is under way


def test_it_gives_a_tool_result_to_the_model_and_asks_for_an_answer() -> None:
    h = Harness().ready()
    out = realtime_out(h.state.on_tool_result("call_X9", '{"ok": true}', h.now))
    assert out[0] == {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": "call_X9",
            "output": '{"ok": true}',
        },
    }
    # A plain response.create: the session's instructions stay in force.
    assert out[1] == {"type": "response.create", "event_id": "evt_tool"}
    h.rt(rt_response_created("resp_after_tool"))
    assert h.state.responses.purpose("resp_after_tool") == "tool"


def test_it_ignores_a_tool_result_after_the_end() -> None:
    h = Harness().ready()
    h.state.hang_up("alice", h.now)
    assert h.state.on_tool_result("call_X9", "{}", h.now) == []


def test_it_ends_as_server_shutdown() -> None:
    h = Harness().ready()
    assert h.state.shut_down() == [
        EndCall("server_shutdown", "the server process shut down", None)
    ]


def test_it_asks_to_open_the_engine_leg_once() -> None:
    early = Harness(connect_on_upgrade=True)
    assert OpenEngine() in early.state.on_accepted(0)
    assert of_type(early.tw(tw_start()), OpenEngine) == []
    late = Harness()
    assert of_type(late.state.on_accepted(0), OpenEngine) == []
    assert of_type(late.tw(tw_start()), OpenEngine) == [OpenEngine()]


# -- the parts alone ------------------------------------------------------------


def test_playback_marks_and_tracks_what_was_heard() -> None:
    playback = TwilioPlayback(mark_interval_ms=100)
    playback.start(STREAM_SID)
    turn = AssistantTurn("item_1", "resp_1", seq=1, offset_ms=0)
    playback.add(turn)
    first = playback.audio(turn, mulaw_b64(400), json_safe=True)  # 50 ms
    assert [f["event"] for f in twilio_out(first)] == ["media", "mark"]
    second = playback.audio(turn, mulaw_b64(400), json_safe=True)  # 100 ms
    assert [f["event"] for f in twilio_out(second)] == ["media"]  # 50 ms since
    assert playback.echo("item_1:50") == (True, turn)
    assert turn.heard_ms == 50 and playback.playing
    assert playback.echo("item_9:50") == (False, None)
    clear, cut = playback.interrupt()
    assert cut == [turn] and turn.cleared and turn.interrupted and len(clear) == 1
    assert playback.echo("item_1:100") == (True, None)  # flushed: proves nothing
    assert playback.audio(turn, mulaw_b64(400), json_safe=True) == []


def test_transcript_orders_rows_by_when_turns_began() -> None:
    transcript = Transcript(transcribes_caller=True)
    transcript.start(1_000)
    transcript.speech_started("item_U1", None, 3_000)
    transcript.speech_stopped(4_000)
    answer = transcript.assistant_turn("item_A1", "resp_1", 4_300, answers_caller=True)
    assert answer.stopped_ms == 4_000
    assert transcript.audio_sent(answer, 4_300) == []  # not written yet
    assert answer.reply_latency_ms == 300
    (caller_row,) = of_type(
        transcript.caller_text("item_U1", " When do you open? ", 5_000), SaveTranscript
    )
    assert (caller_row.seq, caller_row.offset_ms) == (1, 2_000)
    assert (answer.seq, answer.offset_ms) == (2, 3_300)
    greeting = transcript.assistant_turn(
        "item_G", "resp_g", 5_000, answers_caller=False
    )
    assert greeting.stopped_ms is None
    assert transcript.system("DTMF 5", 6_000).seq == 4


def test_responses_match_our_requests_in_order_and_forget_refused_ones() -> None:
    responses = Responses()
    responses.requested(GREETING)
    responses.started("resp_model")  # the model's own, while ours was in flight
    assert responses.purpose("resp_model") == GREETING
    responses.refused(GREETING)  # so ours was refused after all
    assert not responses.is_ours("resp_model")
    responses.requested(GOODBYE)
    responses.started("resp_bye")
    assert responses.purpose("resp_bye") == GOODBYE
    responses.done("resp_bye")
    assert responses.active_response_id is None


def test_the_goodbye_waits_is_retried_when_refused_and_ends_once_said() -> None:
    goodbyes = Goodbyes(timeout_ms=5_000)
    end = EndCall("max_duration")
    assert goodbyes.begin("Say bye", end) == StartTimer(TIMER_GOODBYE, 5_000)
    assert goodbyes.waiting and not goodbyes.saying  # the answer plays out first
    assert goodbyes.send() == "Say bye" and goodbyes.saying
    goodbyes.refused(GREETING)  # not ours to retry
    assert goodbyes.stage == "requested"
    goodbyes.refused(GOODBYE)  # an active response: asked again after it
    assert goodbyes.waiting
    goodbyes.send()
    goodbyes.generated()
    assert goodbyes.said and goodbyes.end() == end


def test_it_measures_reply_latency_from_the_callers_last_words() -> None:
    h = Harness().ready()
    h.rt(rt_speech_started("item_U1"), at=1_000)
    h.rt(rt_speech_stopped("item_U1"), at=2_000)
    h.rt(rt_response_created("resp_1"), at=2_100)
    h.rt(rt_delta("resp_1", "item_A1"), at=2_300)
    assert h.state.speech.playback.turns["item_A1"].reply_latency_ms == 300
