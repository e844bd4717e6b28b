"""The simulators' audio helpers: G.711 codec, signals, WAV input, energy, tags."""

from __future__ import annotations

import base64
import math
import struct
import wave
from array import array
from pathlib import Path

import pytest

from calls.tooling.simulators import audio


def test_it_decodes_the_standard_mu_law_table_values() -> None:
    assert audio.DECODE_TABLE[0xFF] == 0
    assert audio.DECODE_TABLE[0x7F] == 0
    assert audio.DECODE_TABLE[0x00] == -32124
    assert audio.DECODE_TABLE[0x80] == 32124
    assert audio.DECODE_TABLE[0xF0] == 120  # smallest segment, positive


def test_it_encodes_to_the_reference_codes() -> None:
    encoded = audio.encode([0, 32767, -32768, 1000, -1000])
    assert encoded == bytes([0xFF, 0x80, 0x00, 0xCE, 0x4E])


def test_it_round_trips_within_the_quantisation_step() -> None:
    samples = array("h", range(-32000, 32000, 97))
    decoded = audio.decode(audio.encode(samples))
    for original, back in zip(samples, decoded, strict=True):
        # G.711 keeps about 4 bits of mantissa: the error is under 1/16 of |x|.
        assert abs(original - back) <= max(16, abs(original) / 16)


def test_it_makes_silence_and_speech_of_the_asked_length() -> None:
    assert audio.silence(40) == b"\xff" * 320
    assert audio.SILENCE_FRAME == b"\xff" * audio.FRAME_BYTES
    speech = audio.speech_like(100)
    assert len(speech) == 800
    assert speech == audio.speech_like(100)  # deterministic
    assert audio.duration_ms(speech) == 100


def test_it_measures_frame_energy_from_bytes_or_base64() -> None:
    frame = audio.speech_frame(3)
    assert audio.frame_energy(audio.SILENCE_FRAME) == 0.0
    assert audio.frame_energy(frame) > 0.02
    assert audio.frame_energy(base64.b64encode(frame).decode()) == pytest.approx(
        audio.frame_energy(frame)
    )
    assert audio.frame_energy("not base64!!") == 0.0
    assert audio.frame_energy(b"") == 0.0


def test_it_keeps_speech_energy_above_silence_in_every_frame() -> None:
    energies = [audio.frame_energy(f) for f in audio.frames(audio.speech_like(2000))]
    assert min(energies) > 0.02
    assert max(energies) < 0.3


def test_it_splits_frames_and_pads_the_last_with_silence() -> None:
    parts = audio.frames(b"\x00" * 200)
    assert [len(p) for p in parts] == [160, 160]
    assert parts[1].endswith(b"\xff" * 120)


def _write_wav(path: Path, *, rate: int, channels: int, seconds: float) -> None:
    count = int(rate * seconds)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        data = bytearray()
        for n in range(count):
            value = int(8000 * math.sin(2 * math.pi * 300 * n / rate))
            data += struct.pack("<h", value) * channels
        wav.writeframes(bytes(data))


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 2), (44100, 1)])
def test_it_reads_any_16_bit_wav_as_8_khz_mono_mu_law(
    tmp_path: Path, rate: int, channels: int
) -> None:
    path = tmp_path / "speech.wav"
    _write_wav(path, rate=rate, channels=channels, seconds=0.5)
    data = audio.read_wav(path)
    assert abs(len(data) - 4000) <= 2
    # A 300 Hz sine at amplitude 8000 has a mean |x| of about 0.155 of full scale.
    assert audio.frame_energy(data[800:960]) == pytest.approx(0.155, abs=0.02)


def test_it_refuses_an_8_bit_wav(tmp_path: Path) -> None:
    path = tmp_path / "old.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 800)
    with pytest.raises(ValueError, match="16-bit"):
        audio.read_wav(path)


def test_it_tags_frames_and_reads_the_tag_back() -> None:
    frame = audio.speech_frame(0)
    tagged = audio.tag_frame(frame, stream_id=513, counter=70_000)
    assert len(tagged) == len(frame)
    assert tagged[audio.TAG_BYTES :] == frame[audio.TAG_BYTES :]
    assert audio.read_tag(tagged) == (513, 70_000)
    assert audio.read_tag(frame) is None
    assert audio.read_tag(audio.SILENCE_FRAME) is None
    corrupted = tagged[:6] + bytes([tagged[6] ^ 1]) + tagged[7:]
    assert audio.read_tag(corrupted) is None


def test_it_converts_mu_law_to_24_khz_pcm16() -> None:
    pcm = audio.pcm16_from_mulaw(audio.speech_like(100), rate_out=24000)
    assert len(pcm) == 2400 * 2
