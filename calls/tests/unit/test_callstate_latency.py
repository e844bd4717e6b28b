"""Latency as the caller felt it, pure: the caller-audio clock and the figures."""

from __future__ import annotations

from calls.callstate import SaveTranscript, SetLatency
from calls.callstate.caller_clock import SLIP_MS, CallerAudioClock
from calls.tests.support.frames import (
    mulaw_b64,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_speech_started,
    rt_speech_stopped,
    rt_transcript_done,
    tw_connected,
    tw_mark,
    tw_media,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, of_type, snapshot

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
