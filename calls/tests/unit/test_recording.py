"""Recordings: the timeline (where audio goes), the spool writer, the WAV."""

from __future__ import annotations

import base64
import hashlib
import struct
import wave
from pathlib import Path

from calls.recording.timeline import ASSISTANT, CALLER, Timeline, Write
from calls.recording.writer import PCM16, SpoolWriter, ulaw_to_pcm16, wav_header
from calls.runtime.call_audio import CallAudio
from calls.tests.support.frames import (
    mulaw_b64,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_speech_started,
    tw_mark,
    tw_media,
)
from calls.tests.support.frames.harness import Harness


def b64(byte: int, n: int = 160) -> str:
    """``n`` samples (n/8 ms) of one mu-law value, as Twilio sends them."""
    return base64.b64encode(bytes([byte]) * n).decode()


def channel(writes: list[Write], which: int, length: int) -> bytearray:
    """Apply a timeline's writes to one channel of mu-law silence."""
    out = bytearray([0xFF]) * length
    for w in writes:
        if w.channel != which:
            continue
        data = base64.b64decode(w.payload)
        if w.limit is not None:
            data = data[: w.limit]
        out[w.position : w.position + len(data)] = data
    return out[:length]


def test_it_places_caller_frames_at_their_twilio_timestamps() -> None:
    t = Timeline()
    t.stream_started(1000)
    t.caller_audio(b64(1), "0")
    t.caller_audio(b64(2), "20")
    t.caller_audio(b64(3), "60")  # the frame at 40 ms was lost
    audio = channel(t.drain(), CALLER, 640)
    assert audio[0:160] == bytes([1]) * 160
    assert audio[160:320] == bytes([2]) * 160
    assert audio[320:480] == bytes([0xFF]) * 160  # silence, not a shift
    assert audio[480:640] == bytes([3]) * 160


def test_it_places_assistant_audio_where_the_marks_prove_it_played() -> None:
    t = Timeline()
    t.stream_started(1000)
    # Sent at once (faster than real time); Twilio plays them one after another.
    t.assistant_audio("item1", 20, b64(5), 1100)
    t.assistant_audio("item1", 40, b64(6), 1100)
    assert channel(t.drain(), ASSISTANT, 2000) == bytes([0xFF]) * 2000  # unproven
    t.assistant_heard("item1", 20, 1300)  # the first 20 ms ended at 300 ms
    t.assistant_heard("item1", 40, 1320)
    audio = channel(t.drain(), ASSISTANT, 3000)
    assert audio[2240:2400] == bytes([5]) * 160  # 280..300 ms
    assert audio[2400:2560] == bytes([6]) * 160  # 300..320 ms
    assert audio[:2240] == bytes([0xFF]) * 2240


def test_it_keeps_the_assistant_silent_after_a_barge_in_clear() -> None:
    t = Timeline()
    t.stream_started(0)
    for i in range(10):  # 200 ms of audio sent at 100 ms
        t.assistant_audio("a", (i + 1) * 20, b64(7), 100)
    t.assistant_heard("a", 20, 120)  # 100..120 ms proven
    t.assistant_cleared(150)  # the caller talked over it at 150 ms
    t.assistant_heard("a", 200, 400)  # a late echo of a flushed mark: ignored
    t.finish(1000)
    audio = channel(t.drain(), ASSISTANT, 8000)
    assert audio[800:1200] == bytes([7]) * 400  # 100..150 ms played
    assert audio[1200:] == bytes([0xFF]) * (8000 - 1200)  # nothing after the clear


def test_it_continues_a_later_stream_at_its_offset() -> None:
    t = Timeline(offset_ms=5000)
    t.stream_started(0)
    t.caller_audio(b64(9), "0")
    writes = t.drain()
    assert writes[0].position == 40_000


def test_it_spools_and_finishes_a_stereo_mulaw_wav(tmp_path: Path) -> None:
    t = Timeline()
    t.stream_started(0)
    writer = SpoolWriter(tmp_path, "CA1")
    t.caller_audio(b64(1), "0")
    writer.write(t.drain())
    # The flush reached the spool before the end (a crash keeps it).
    assert (tmp_path / "CA1.caller.raw").read_bytes() == bytes([1]) * 160
    t.assistant_audio("x", 20, b64(2), 0)
    t.assistant_heard("x", 20, 40)
    writer.write(t.drain())
    result = writer.finish(t.finish(1000))
    data = result.path.read_bytes()
    assert result.duration_ms == 1000
    assert result.size_bytes == len(data) == 58 + 16000
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert struct.unpack("<HH", data[20:24]) == (7, 2)  # mu-law, stereo
    frames = data[58:]
    assert frames[0:320:2] == bytes([1]) * 160  # caller left
    assert frames[1:320:2] == bytes([0xFF]) * 160
    assert frames[321:641:2] == bytes([2]) * 160  # assistant right, 20..40 ms
    assert not (tmp_path / "CA1.caller.raw").exists()  # the spool is gone


def test_it_writes_16_bit_pcm_that_python_reads(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, "CA2", PCM16)
    t = Timeline()
    t.stream_started(0)
    t.caller_audio(b64(0x00), "0")  # mu-law 0x00: the most negative sample
    writer.write(t.drain())
    result = writer.finish(t.finish(500))
    with wave.open(str(result.path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        assert w.getnframes() == 4000
        first = struct.unpack("<hh", w.readframes(1))
    assert first == (-32124, 0)
    assert result.size_bytes == 44 + 16000


def test_it_decodes_mulaw_like_g711() -> None:
    assert ulaw_to_pcm16(bytes([0xFF, 0x7F, 0x80])) == struct.pack("<hhh", 0, 0, 32124)
    assert len(wav_header(PCM16, 10)) == 44


class _Tap(Timeline):
    """The timeline as the call state's recording, on the harness' clock."""

    def __init__(self) -> None:
        super().__init__()
        self.harness: Harness | None = None

    def assistant_cleared(self, now_ms: int | None = None) -> None:
        super().assistant_cleared(self.harness.now if self.harness else 0)


def test_it_records_what_the_call_state_played_and_cuts_at_the_barge_in() -> None:
    tap = _Tap()
    h = Harness(audio=CallAudio(tap))
    tap.harness = h
    h.ready()  # the stream started at 0
    h.tw(tw_media(mulaw_b64(160, 0x22)))  # the fixture's frame: timestamp 40 ms
    h.now = 100
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    for _ in range(3):  # 300 ms of answer sent at 100 ms, 0x11 each
        h.rt(rt_delta(nbytes=800).replace(mulaw_b64(800), mulaw_b64(800, 0x11)))
    h.tw(tw_mark("item_A1:100"), at=250)  # the first 100 ms ended at 250 ms
    h.rt(rt_speech_started("item_U2"), at=300)  # barge-in: cleared at 300 ms
    h.tw(tw_mark("item_A1:300"), at=320)  # a flushed mark's echo: proves nothing
    end = tap.finish(1000)
    writes = tap.drain()
    caller = channel(writes, CALLER, end)
    assert caller[320:480] == bytes([0x22]) * 160
    assistant = channel(writes, ASSISTANT, end)
    assert assistant[:1200] == bytes([0xFF]) * 1200
    assert assistant[1200:2400] == bytes([0x11]) * 1200  # 150..300 ms: heard
    assert assistant[2400:] == bytes([0xFF]) * (end - 2400)  # after the clear
