"""Latency as the caller felt it, pure: the caller-audio clock and the figures."""

from __future__ import annotations

from calls.callstate import SaveTranscript, SetLatency
from calls.callstate.caller_clock import SLIP_MS, CallerAudioClock
from calls.callstate.continuation import Continuation
from calls.tests.support.frames import (
    mulaw_b64,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    rt_speech_started,
    rt_speech_stopped,
    rt_transcript_done,
    tw_connected,
    tw_dtmf,
    tw_mark,
    tw_media,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, of_type, persona, snapshot
from calls.tests.support.tools import rt_call, tools_snapshot

FRAME = mulaw_b64(160)  # 20 ms, like Twilio's


def test_it_maps_audio_time_to_arrival_without_checkpoints_for_steady_audio() -> None:
    clock = CallerAudioClock()
    for i in range(100):  # 2 s at Twilio's pace, from t=5000
        clock.add(FRAME, 5_000 + 20 * i)
    assert len(clock.checkpoints) == 1
    assert clock.received_ms(20) == 5_000  # the first frame's audio
    assert clock.received_ms(1_000) == 5_980
    assert clock.received_ms(2_000) == 6_980


def test_it_re_anchors_when_arrivals_slip() -> None:
    clock = CallerAudioClock()
    for i in range(50):
        clock.add(FRAME, 20 * i)  # audio up to 1000 ms by t=980
    stall = 200
    for i in range(50, 100):  # the network stalled: everything 200 ms late
        clock.add(FRAME, 20 * i + stall)
    assert len(clock.checkpoints) == 2
    assert clock.received_ms(500) == 480
    assert clock.received_ms(1_500) == 1_480 + stall
    # Within the slip tolerance, jitter does not add checkpoints.
    clock.add(FRAME, 20 * 100 + stall + SLIP_MS)
    assert len(clock.checkpoints) == 2


def test_it_knows_nothing_before_any_audio() -> None:
    assert CallerAudioClock().received_ms(1_000) is None


def test_it_counts_buffered_audio_from_when_it_reached_us() -> None:
    h = Harness()
    h.tw(tw_connected())
    h.tw(tw_start(), at=1_000)
    for i in range(10):  # the engine leg is still opening: buffered
        h.tw(tw_media(FRAME), at=1_000 + 20 * i)
    h.open()
    assert h.state.media.clock.received_ms(200) == 1_180


def speak_then_answer(h: Harness, *, speech_ms: int, silence_ms: int) -> None:
    """Caller audio at Twilio's pace from t=1000; the VAD's event comes 40 ms
    after the silence it waited for; the first answer audio 300 ms later."""
    total = speech_ms + silence_ms
    for i in range(total // 20):
        h.tw(tw_media(FRAME), at=1_000 + 20 * i)
    vad_at = 1_000 + total + 40
    h.rt(rt_speech_started("item_U1", audio_start_ms=0), at=1_100)
    h.rt(rt_speech_stopped("item_U1", audio_end_ms=total), at=vad_at)
    h.rt(rt_response_created(), at=vad_at + 10)
    h.rt(rt_item_added(), at=vad_at + 20)
    h.rt(rt_delta(), at=vad_at + 300)


def test_it_measures_from_the_callers_last_audio_not_the_vad_event() -> None:
    h = Harness(snapshot(vad_silence_duration_ms=500)).ready()
    speak_then_answer(h, speech_ms=1_000, silence_ms=500)
    # Speech ended at 1000 ms of audio: that audio reached us at t=1980. The VAD
    # event came at 2540, the first answer audio went out at 2840.
    row = of_type(h.rt(rt_transcript_done(), at=2_900), SaveTranscript)[0]
    assert row.reply_latency_ms == 2_840 - 1_980
    assert row.engine_latency_ms == 300
    later = of_type(h.tw(tw_mark("item_A1:100"), at=3_000), SetLatency)
    assert later == [SetLatency("item_A1", heard_latency_ms=3_000 - 1_980)]


def test_it_falls_back_to_the_vads_own_end_with_semantic_vad() -> None:
    h = Harness(snapshot(turn_detection="semantic_vad")).ready()
    speak_then_answer(h, speech_ms=1_000, silence_ms=500)
    row = of_type(h.rt(rt_transcript_done(), at=2_900), SaveTranscript)[0]
    # audio_end_ms=1500 reached us at 2480: only the VAD's processing is counted.
    assert row.reply_latency_ms == 2_840 - 2_480
    assert row.engine_latency_ms == 300


def test_it_sends_the_engine_share_with_a_late_reply_latency() -> None:
    h = Harness().ready()
    for i in range(55):
        h.tw(tw_media(FRAME), at=1_000 + 20 * i)
    h.rt(rt_speech_stopped("item_U1", audio_end_ms=1_100), at=2_150)
    h.rt(rt_response_created(), at=2_160)
    h.rt(rt_item_added(), at=2_170)
    h.rt(rt_transcript_done(), at=2_200)  # the row is written before any audio
    later = of_type(h.rt(rt_delta(), at=2_450), SetLatency)
    # Speech ended at 600 ms of audio (1100 less the 500 ms silence): t=1580.
    assert later == [SetLatency("item_A1", 2_450 - 1_580, engine_latency_ms=300)]


def caller_spoke(h: Harness) -> None:
    """The caller's words: their last audio reached us at t=1580."""
    for i in range(55):
        h.tw(tw_media(FRAME), at=1_000 + 20 * i)
    h.rt(rt_speech_started("item_U1", audio_start_ms=0), at=1_100)
    h.rt(rt_speech_stopped("item_U1", audio_end_ms=1_100), at=2_150)


def test_a_turn_answered_after_a_tool_call_gets_its_latency() -> None:
    h = Harness(tools_snapshot()).ready()
    caller_spoke(h)
    # The model's response to the caller is only the function call: no audio.
    h.rt(rt_response_created("resp_2"), at=2_160)
    h.rt(rt_call("lookup_order", {"order": "A1"}), at=2_200)
    h.rt(rt_response_done("resp_2", items=()), at=2_210)
    h.state.on_tool_result("call_1", '{"status": "shipped"}', 2_600)
    h.rt(rt_response_created("resp_3"), at=2_610)
    h.rt(rt_item_added("resp_3", "item_A3"), at=2_620)
    h.rt(rt_delta("resp_3", "item_A3"), at=2_750)
    said = h.rt(rt_transcript_done("resp_3", "item_A3"), at=2_800)
    (row,) = of_type(said, SaveTranscript)
    assert row.reply_latency_ms == 2_750 - 1_580
    heard = of_type(h.tw(tw_mark("item_A3:100"), at=2_900), SetLatency)
    assert heard == [SetLatency("item_A3", heard_latency_ms=2_900 - 1_580)]


def test_a_transfer_message_after_the_callers_words_gets_its_latency() -> None:
    h = Harness(tools_snapshot()).ready()
    caller_spoke(h)
    h.rt(rt_response_created("resp_2"), at=2_160)
    h.rt(rt_call("transfer_call", {"destination": "billing"}), at=2_200)
    h.rt(rt_response_done("resp_2", items=()), at=2_210)  # the message is asked
    h.rt(rt_response_created("resp_3"), at=2_300)
    h.rt(rt_item_added("resp_3", "item_T"), at=2_310)
    h.rt(rt_delta("resp_3", "item_T"), at=2_500)
    h.tw(tw_mark("item_T:100"), at=2_600)
    said = h.rt(rt_transcript_done("resp_3", "item_T", "Putting you through."))
    (row,) = of_type(said, SaveTranscript)
    assert (row.reply_latency_ms, row.heard_latency_ms) == (920, 1_020)


def test_a_greeting_and_a_second_turn_have_no_latency() -> None:
    h = Harness(snapshot(greeting="Hello!"))
    h.tw(tw_connected())
    h.tw(tw_start())
    h.open()
    h.rt(rt_session_updated())  # the greeting is asked
    h.rt(rt_response_created("resp_g"), at=500)
    h.rt(rt_item_added("resp_g", "item_G"), at=510)
    assert of_type(h.rt(rt_delta("resp_g", "item_G"), at=600), SetLatency) == []
    assert h.state.speech.playback.turns["item_G"].stopped_ms is None


def test_turns_after_a_handoff_and_on_a_resumed_stream_get_their_latency() -> None:
    h = Harness(tools_snapshot()).ready()
    caller_spoke(h)
    h.rt(rt_response_created("resp_2"), at=2_160)
    h.rt(rt_call("handoff", {"assistant": "Spanish"}), at=2_200)
    h.rt(rt_response_done("resp_2", items=()), at=2_210)
    h.state.on_handoff("call_1", persona(name="Spanish"), 2_400)
    h.rt(rt_response_created("resp_3"), at=2_410)
    h.rt(rt_item_added("resp_3", "item_A3"), at=2_420)
    h.rt(rt_delta("resp_3", "item_A3"), at=2_700)
    assert h.state.speech.playback.turns["item_A3"].reply_latency_ms == 1_120

    note = "Sorry, nobody answered."
    resumed = Harness(continuation=Continuation(stream=2, last_seq=9, note=note))
    resumed.ready()
    resumed.rt(rt_response_created("resp_n"))  # why the caller is back: no latency
    resumed.rt(rt_item_added("resp_n", "item_N"))
    resumed.rt(rt_delta("resp_n", "item_N"), at=900)
    assert resumed.state.speech.playback.turns["item_N"].stopped_ms is None
    caller_spoke(resumed)
    resumed.rt(rt_response_created("resp_4"), at=2_160)
    resumed.rt(rt_item_added("resp_4", "item_A4"), at=2_170)
    resumed.rt(rt_delta("resp_4", "item_A4"), at=2_450)
    assert resumed.state.speech.playback.turns["item_A4"].reply_latency_ms == 870


def test_the_answer_to_a_key_press_gets_its_latency_from_the_key() -> None:
    h = Harness(tools_snapshot()).ready()
    h.tw(tw_dtmf("5"), at=3_000)  # an unmapped key: the model is told
    h.rt(rt_response_created("resp_2"), at=3_100)
    h.rt(rt_item_added("resp_2", "item_A2"), at=3_110)
    h.rt(rt_delta("resp_2", "item_A2"), at=3_400)
    h.tw(tw_mark("item_A2:100"), at=3_500)
    said = h.rt(rt_transcript_done("resp_2", "item_A2", "You pressed five."))
    (row,) = of_type(said, SaveTranscript)
    assert (row.reply_latency_ms, row.heard_latency_ms) == (400, 500)
    assert row.engine_latency_ms is None


def test_a_transfer_key_s_message_gets_its_latency_from_the_key() -> None:
    h = Harness(tools_snapshot(keypad={"1": {"transfer": "billing"}})).ready()
    h.tw(tw_dtmf("1"), at=3_000)  # the transfer message is asked at once
    h.rt(rt_response_created("resp_2"), at=3_100)
    h.rt(rt_item_added("resp_2", "item_T"), at=3_110)
    h.rt(rt_delta("resp_2", "item_T"), at=3_300)
    h.tw(tw_mark("item_T:100"), at=3_450)
    said = h.rt(rt_transcript_done("resp_2", "item_T", "Putting you through."))
    (row,) = of_type(said, SaveTranscript)
    assert (row.reply_latency_ms, row.heard_latency_ms) == (300, 450)
