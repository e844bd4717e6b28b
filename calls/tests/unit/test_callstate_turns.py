"""CallState, pure: transcript rows and their order, usage, latency, DTMF, tools."""

from __future__ import annotations

from calls.callstate import AddUsage, RunTool, SaveTranscript, SetLatency
from calls.callstate.transcript import Transcript
from calls.tests.support.frames import (
    rt_audio_done,
    rt_committed,
    rt_delta,
    rt_input_done,
    rt_input_failed,
    rt_item_added,
    rt_other,
    rt_response_created,
    rt_response_done,
    rt_speech_started,
    rt_speech_stopped,
    rt_tool_call,
    rt_transcript_done,
    tw_dtmf,
    tw_mark,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, of_type, snapshot
from calls.tests.support.live_frames import LiveHarness, lv_audio, lv_heard, lv_said


def caller_turn(h: Harness, item: str = "item_U1", start_ms: int = 1000) -> None:
    h.rt(rt_speech_started(item, audio_start_ms=start_ms))
    h.rt(rt_speech_stopped(item))
    h.rt(rt_committed(item))


def test_it_orders_a_late_caller_transcript_before_the_answer() -> None:
    h = Harness().ready()
    caller_turn(h)
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    h.rt(rt_delta())
    h.rt(rt_transcript_done(transcript="Sure, for how many people?"))
    h.rt(rt_input_done("item_U1", "  I'd like to book a table. "))
    rows = of_type(h.log, SaveTranscript)
    assert [(r.role, r.text) for r in rows] == [
        ("assistant", "Sure, for how many people?"),
        ("caller", "I'd like to book a table."),
    ]
    assert rows[1].seq < rows[0].seq
    assert rows[1].item_id == "item_U1" and rows[0].item_id == "item_A1"


def test_it_records_a_failed_caller_transcription_as_inaudible() -> None:
    h = Harness().ready()
    caller_turn(h, "item_U2")
    row = of_type(h.rt(rt_input_failed("item_U2")), SaveTranscript)[0]
    assert (row.role, row.text, row.failed) == ("caller", "[inaudible]", True)


def test_it_skips_empty_caller_transcripts() -> None:
    h = Harness().ready()
    caller_turn(h)
    assert h.rt(rt_input_done("item_U1", "  ")) == []


def test_it_reserves_no_caller_rows_without_a_transcription_model() -> None:
    h = Harness(snapshot(transcription_model="")).ready()
    caller_turn(h)
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    h.rt(rt_transcript_done())
    assert of_type(h.log, SaveTranscript)[0].seq == 1


def test_it_falls_back_to_the_transcript_in_response_done() -> None:
    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    h.rt(rt_delta())
    actions = h.rt(rt_response_done(items=(("item_A1", "From response.done."),)))
    rows = of_type(actions, SaveTranscript)
    assert [r.text for r in rows] == ["From response.done."]
    # A transcript.done already seen wins; response.done does not write again.
    h2 = Harness().ready()
    h2.rt(rt_response_created())
    h2.rt(rt_item_added())
    h2.rt(rt_transcript_done(transcript="From transcript.done."))
    assert of_type(h2.rt(rt_response_done()), SaveTranscript) == []


def test_it_times_turns_from_the_start_of_the_stream() -> None:
    h = Harness()
    h.tw(tw_start(), at=5_000)
    h.open()
    h.rt(rt_speech_started("item_U1", audio_start_ms=1_200), at=6_500)
    h.rt(rt_input_done("item_U1", "Hi."))
    h.rt(rt_response_created(), at=8_000)
    h.rt(rt_item_added(), at=8_250)
    h.rt(rt_transcript_done())
    h.tw(tw_dtmf("7"), at=9_000)
    rows = {r.role: r for r in of_type(h.log, SaveTranscript)}
    assert rows["caller"].offset_ms == 1_200  # the audio timeline Realtime reports
    assert rows["assistant"].offset_ms == 3_250
    assert (rows["system"].text, rows["system"].offset_ms) == ("DTMF 7", 4_000)


def test_it_maps_usage_onto_the_call_counters() -> None:
    from calls.vocabulary.usage import USAGE_FIELDS

    h = Harness().ready()
    h.rt(rt_response_created())
    usage = of_type(h.rt(rt_response_done(status="cancelled")), AddUsage)[0].usage
    assert usage == {
        "input_tokens": 1200,
        "output_tokens": 250,
        "input_text_tokens": 900,
        "input_audio_tokens": 300,
        "cached_text_tokens": 700,
        "cached_audio_tokens": 68,
        "output_text_tokens": 60,
        "output_audio_tokens": 190,
    }
    assert set(usage) <= set(USAGE_FIELDS)


def test_it_measures_reply_and_heard_latency_from_speech_stopped() -> None:
    h = Harness().ready()
    h.rt(rt_speech_started("item_U1"), at=1_000)
    h.rt(rt_speech_stopped("item_U1"), at=2_000)
    h.rt(rt_response_created(), at=2_100)
    h.rt(rt_item_added(), at=2_150)
    h.rt(rt_delta(), at=2_300)
    h.rt(rt_transcript_done(), at=2_400)
    row = of_type(h.log, SaveTranscript)[-1]
    assert (row.reply_latency_ms, row.heard_latency_ms) == (300, None)
    later = of_type(h.tw(tw_mark("item_A1:100"), at=2_650), SetLatency)
    assert later == [SetLatency("item_A1", None, 650)]
    h.tw(tw_mark("item_A1:100"), at=3_000)  # only the first echo counts
    assert len(of_type(h.log, SetLatency)) == 1


def test_it_includes_latency_known_before_the_row_is_written() -> None:
    h = Harness().ready()
    h.rt(rt_speech_stopped("item_U1"), at=2_000)
    h.rt(rt_response_created())
    h.rt(rt_delta(), at=2_200)
    h.tw(tw_mark("item_A1:100"), at=2_500)
    row = of_type(h.rt(rt_transcript_done()), SaveTranscript)[0]
    assert (row.reply_latency_ms, row.heard_latency_ms) == (200, 500)
    assert of_type(h.log, SetLatency) == []


def test_the_greeting_has_no_latency() -> None:
    h = Harness(snapshot(greeting="Hello!")).ready()
    h.rt(rt_response_created("resp_g"))
    h.rt(rt_item_added("resp_g", "item_G"))
    h.rt(rt_delta("resp_g", "item_G"), at=500)
    h.tw(tw_mark("item_G:100"), at=700)
    row = of_type(h.rt(rt_transcript_done("resp_g", "item_G")), SaveTranscript)[0]
    assert (row.reply_latency_ms, row.heard_latency_ms) == (None, None)


def test_it_writes_dtmf_digits_as_system_rows_in_order() -> None:
    h = Harness().ready()
    h.tw(tw_dtmf("1"))
    h.tw(tw_dtmf("#"))
    rows = of_type(h.log, SaveTranscript)
    assert [(r.seq, r.role, r.text) for r in rows] == [
        (1, "system", "DTMF 1"),
        (2, "system", "DTMF #"),
    ]


def test_it_hands_function_calls_to_the_tool_seam() -> None:
    h = Harness().ready()
    (call,) = of_type(h.rt(rt_tool_call()), RunTool)
    assert (call.call_id, call.name) == ("call_X9", "transfer_call")
    assert call.arguments == '{"reason": "billing"}'


def test_it_ignores_events_it_does_not_use() -> None:
    h = Harness().ready()
    assert h.rt(rt_other()) == []
    assert h.rt('{"type": "response.output_audio_transcript.delta"}') == []
    assert h.rt('{"type": "some.future.event", "x": 1}') == []
    assert h.state.bad_frames == 0


def test_it_marks_the_end_of_each_item_when_its_response_is_done() -> None:
    h = Harness(mark_interval_ms=1000).ready()
    h.rt(rt_response_created())
    h.rt(rt_delta())
    h.rt(rt_delta())
    h.rt(rt_response_done())  # no output_audio.done came: the final mark still goes
    h.rt(rt_audio_done())
    turn = h.state.speech.playback.turns["item_A1"]
    assert turn.marked_ms == turn.sent_ms == 200
    h.tw(tw_mark("item_A1:200"))
    assert h.state.speech.playback.live == []


def test_gpt_live_lists_an_interrupted_turn_after_the_caller_who_spoke_first() -> None:
    h = LiveHarness().ready()
    h.lv(lv_said("Your order ships on Monday and", 15_000), at=14_900)
    h.lv(lv_audio(), at=15_000)  # the assistant's turn opens at 0:15
    h.tw(tw_mark("live_item_1:20"), at=15_100)  # the caller heard some of it
    # The caller's words began at 0:14; their transcript comes at 0:15.2.
    h.lv(lv_heard("Wait, which order?", 14_000, 14_900), at=15_200)
    h.lv(lv_said("Sorry, which one?", 16_900), at=16_900)  # closes the caller turn
    rows = {r.role: r for r in of_type(h.log, SaveTranscript)}
    caller, assistant = rows["caller"], rows["assistant"]
    assert (caller.offset_ms, assistant.offset_ms) == (14_000, 15_000)
    assert assistant.interrupted
    assert caller.seq < assistant.seq


def test_a_late_caller_turn_moves_only_unwritten_turns_given_the_last_places() -> None:
    transcript = Transcript(transcribes_caller=True)
    transcript.start(0)
    answer = transcript.assistant_turn("item_A1", "resp_1", 15_000, answers_caller=True)
    transcript.speech_started("item_U1", 14_000, 15_200)
    assert (transcript.caller_turns["item_U1"].seq, answer.seq) == (1, 2)
    # A row placed in between (a keypad note here) keeps everything where it is.
    late = transcript.assistant_turn("item_A2", "resp_2", 20_000, answers_caller=True)
    note = transcript.system("DTMF 5", 20_100)
    transcript.speech_started("item_U2", 19_000, 20_200)
    assert (late.seq, note.seq, transcript.caller_turns["item_U2"].seq) == (3, 4, 5)
