"""CallState, pure: caller audio buffering, session setup, assistant audio and marks,
barge-in. No sockets, no database, no clock: time is passed in."""

from __future__ import annotations

import json

from calls.callstate import EndCall, SaveTranscript, b64_size, cut_transcript
from calls.tests.support.frames import (
    STREAM_SID,
    mulaw_b64,
    rt_audio_done,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    rt_speech_started,
    rt_transcript_done,
    tw_connected,
    tw_mark,
    tw_media,
    tw_start,
)
from calls.tests.support.frames.harness import (
    Harness,
    marks,
    of_type,
    realtime_out,
    snapshot,
    twilio_out,
)


def play(
    h: Harness,
    deltas: int = 3,
    item: str = "item_A1",
    resp: str = "resp_1",
    nbytes: int = 800,
) -> None:
    """The model starts an answer and streams ``deltas`` chunks of audio."""
    h.rt(rt_response_created(resp))
    h.rt(rt_item_added(resp, item))
    for _ in range(deltas):
        h.rt(rt_delta(resp, item, nbytes))


# -- caller audio before and after the Realtime leg is ready ----------------------


def test_it_buffers_caller_audio_until_the_leg_opens_then_flushes_in_order() -> None:
    h = Harness()
    h.tw(tw_connected())
    h.tw(tw_start())
    payloads = [mulaw_b64(160, fill) for fill in (1, 2, 3)]
    for p in payloads:
        assert h.tw(tw_media(p)) == []
    sent = realtime_out(h.open())
    assert sent[0]["type"] == "session.update"
    assert [e["audio"] for e in sent[1:]] == payloads
    assert all(e["type"] == "input_audio_buffer.append" for e in sent[1:])


def test_it_bounds_the_buffer_and_drops_the_oldest_frames() -> None:
    h = Harness(buffer_frames=3)
    h.tw(tw_start())
    payloads = [mulaw_b64(160, fill) for fill in range(5)]
    for p in payloads:
        h.tw(tw_media(p))
    sent = realtime_out(h.open())
    assert [e["audio"] for e in sent[1:]] == payloads[2:]
    assert h.state.media.dropped_frames == 2


def test_it_waits_for_start_before_configuring_an_early_leg() -> None:
    h = Harness()
    assert h.open() == []  # leg opened on the upgrade, before Twilio's start
    actions = h.tw(tw_start())
    assert [e["type"] for e in realtime_out(actions)] == ["session.update"]
    assert h.state.session.configured


def test_it_forwards_caller_audio_untouched_once_configured() -> None:
    h = Harness().ready()
    payload = mulaw_b64(160, 0x42)
    actions = h.tw(tw_media(payload))
    assert realtime_out(actions) == [
        {"type": "input_audio_buffer.append", "audio": payload}
    ]


def test_it_encodes_escaped_payloads_safely() -> None:
    h = Harness().ready()
    # A slash written as "\/" is legal JSON: the fast concatenation path is off.
    frame = tw_media(mulaw_b64(3, 0xFF)).replace("/", "\\/")
    out = realtime_out(h.tw(frame))
    assert out[0]["audio"] == "////"


def test_it_greets_exactly_once_after_the_session_update() -> None:
    h = Harness(snapshot(greeting="Thanks for calling ACME!"))
    h.tw(tw_start())
    h.tw(tw_media())
    sent = realtime_out(h.open())
    assert [e["type"] for e in sent] == [
        "session.update",
        "input_audio_buffer.append",
        "response.create",
    ]
    assert sent[-1]["response"]["instructions"] == (
        "Greet the caller by saying: Thanks for calling ACME!"
    )
    h.open()
    h.rt(rt_session_updated())
    creates = [e for e in realtime_out(h.log) if e["type"] == "response.create"]
    assert len(creates) == 1


def test_it_does_not_speak_first_without_a_greeting() -> None:
    h = Harness().ready()
    assert "response.create" not in [e["type"] for e in realtime_out(h.log)]


# -- assistant audio and marks ----------------------------------------------------


def test_it_sends_each_delta_as_media_then_a_mark_with_item_and_ms() -> None:
    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    delta = json.loads(rt_delta(nbytes=800))["delta"]
    first = twilio_out(h.rt(rt_delta(nbytes=800)))
    second = twilio_out(h.rt(rt_delta(nbytes=400)))
    assert first[0] == {
        "event": "media",
        "streamSid": STREAM_SID,
        "media": {"payload": delta},
    }
    assert first[1] == {
        "event": "mark",
        "streamSid": STREAM_SID,
        "mark": {"name": "item_A1:100"},
    }
    assert second[1]["mark"]["name"] == "item_A1:150"


def test_it_thins_marks_with_mark_interval_but_marks_first_and_last() -> None:
    h = Harness(mark_interval_ms=250).ready()
    play(h, deltas=5)  # 100 ms each
    h.rt(rt_audio_done())
    assert marks(h.log) == ["item_A1:100", "item_A1:400", "item_A1:500"]
    assert len([f for f in twilio_out(h.log) if f["event"] == "media"]) == 5


def test_it_computes_audio_bytes_from_base64_length_alone() -> None:
    for n in (0, 1, 2, 3, 4, 159, 160, 161, 2400):
        assert b64_size(mulaw_b64(n)) == n


def test_it_matches_mark_echoes_by_name_not_by_count() -> None:
    h = Harness().ready()
    play(h, deltas=3)
    turn = h.state.speech.playback.turns["item_A1"]
    h.tw(tw_mark("item_A1:200"))
    assert turn.heard_ms == 200
    h.tw(tw_mark("item_A1:100"))  # late, out of order: never moves heard back
    assert turn.heard_ms == 200


def test_it_truncates_at_the_last_mark_heard_before_the_clear() -> None:
    h = Harness().ready()
    play(h, deltas=3)
    h.tw(tw_mark("item_A1:100"))
    actions = h.rt(rt_speech_started("item_U2"))
    assert twilio_out(actions) == [{"event": "clear", "streamSid": STREAM_SID}]
    assert realtime_out(actions) == [
        {
            "type": "conversation.item.truncate",
            "item_id": "item_A1",
            "content_index": 0,
            "audio_end_ms": 100,
        }
    ]
    # After a clear Twilio echoes every pending mark at once: they prove nothing.
    for name in ("item_A1:200", "item_A1:300"):
        assert h.tw(tw_mark(name)) == []
    assert h.state.speech.playback.turns["item_A1"].heard_ms == 100
    assert h.state.bad_frames == 0


def test_it_never_truncates_past_what_was_sent() -> None:
    h = Harness().ready()
    play(h, deltas=2)
    h.tw(tw_mark("item_A1:99999"))  # a forged or confused echo
    assert h.state.speech.playback.turns["item_A1"].heard_ms == 200
    h.rt(rt_delta())  # more audio queued, unheard
    truncate = realtime_out(h.rt(rt_speech_started("item_U2")))[0]
    assert truncate["audio_end_ms"] == 200


def test_it_drops_late_deltas_of_the_interrupted_item() -> None:
    h = Harness().ready()
    play(h, deltas=2)
    h.rt(rt_speech_started("item_U2"))
    assert h.rt(rt_delta()) == []
    assert h.state.speech.playback.turns["item_A1"].sent_ms == 200
    assert h.state.speech.playback.turns["item_A1"].generated_ms == 300
    # The next answer plays normally, and its marks are its own.
    play(h, deltas=1, item="item_A2", resp="resp_2")
    assert marks(h.log)[-1] == "item_A2:100"
    h.tw(tw_mark("item_A2:100"))
    assert h.state.speech.playback.turns["item_A2"].heard_ms == 100


def test_it_interrupts_an_answer_that_finished_generating_but_still_plays() -> None:
    h = Harness().ready()
    play(h, deltas=4)
    h.rt(rt_audio_done())
    h.rt(rt_transcript_done(transcript="One two three four five six seven eight."))
    h.rt(rt_response_done())
    written = of_type(h.log, SaveTranscript)
    assert written[-1].interrupted is False
    h.tw(tw_mark("item_A1:200"))  # half of the 400 ms was heard
    actions = h.rt(rt_speech_started("item_U2"))
    assert twilio_out(actions)[0]["event"] == "clear"
    assert realtime_out(actions)[0]["audio_end_ms"] == 200
    rewrite = of_type(actions, SaveTranscript)[0]
    assert rewrite.seq == written[-1].seq
    assert rewrite.interrupted is True
    assert rewrite.text == "One two three four"


def test_it_does_not_interrupt_audio_that_already_played() -> None:
    h = Harness().ready()
    play(h, deltas=2)
    h.rt(rt_audio_done())
    h.rt(rt_response_done())
    h.tw(tw_mark("item_A1:200"))
    actions = h.rt(rt_speech_started("item_U2"))
    assert twilio_out(actions) == []
    assert realtime_out(actions) == []


def test_it_drops_an_answer_interrupted_before_any_audio_was_sent() -> None:
    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    actions = h.rt(rt_speech_started("item_U2"))
    assert twilio_out(actions) == []  # nothing queued: no clear
    assert realtime_out(actions) == []  # no audio: nothing to truncate
    assert h.rt(rt_delta()) == []
    assert of_type(h.rt(rt_transcript_done()), SaveTranscript) == []


def test_it_keeps_only_what_was_heard_when_the_transcript_comes_after() -> None:
    h = Harness().ready()
    play(h, deltas=2)
    h.tw(tw_mark("item_A1:100"))
    h.rt(rt_speech_started("item_U2"))
    h.rt(rt_delta())  # generated but dropped: 300 ms generated in all
    h.rt(rt_transcript_done(transcript="Alpha beta gamma delta epsilon zeta"))
    entry = of_type(h.log, SaveTranscript)[-1]
    assert entry.interrupted is True
    assert entry.text == "Alpha beta"


def test_cut_transcript_backs_off_to_a_word_boundary() -> None:
    text = "Hello there, how can I help you today?"
    assert cut_transcript(text, 0, 1000) == ""
    assert cut_transcript(text, 1000, 1000) == text
    assert cut_transcript(text, 2000, 1000) == text
    assert cut_transcript(text, 500, 1000) == "Hello there, how"
    assert cut_transcript(text, 100, 1000) == ""
    assert cut_transcript("", 500, 1000) == ""
    assert cut_transcript(text, 500, 0) == ""


def test_nothing_happens_after_the_call_ended() -> None:
    h = Harness().ready()
    play(h, deltas=1)
    end = h.state.on_twilio_closed(h.now)
    assert isinstance(end[0], EndCall)
    assert h.rt(rt_delta()) == []
    assert h.tw(tw_media()) == []
    assert h.state.on_twilio_closed(h.now) == []
