"""Telephone audio for the simulators: G.711 mu-law, test signals, WAV input, energy.

Owns the codec (standard G.711 tables, no ``audioop``, which later Pythons removed),
the 20 ms / 160-byte frame convention of Twilio Media Streams, a deterministic
speech-like test signal (a voiced tone with a syllable-rate envelope), reading any
16-bit PCM WAV as 8 kHz mono mu-law, a cheap per-frame energy measure, and frame
tags that let a benchmark recognise its own frame when it comes back.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
import sys
import wave
import zlib
from array import array
from functools import cache
from pathlib import Path

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160: one byte per sample
BYTES_PER_MS = SAMPLE_RATE // 1000  # 8
SILENCE_BYTE = 0xFF  # mu-law for 0 (0x7F is "negative zero")
SILENCE_FRAME = bytes([SILENCE_BYTE]) * FRAME_BYTES

_BIAS = 0x84
_ENCODE_BIAS = 0x21  # the 14-bit form of _BIAS
_ENCODE_CLIP = 8159
_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def _encode_sample(sample: int) -> int:
    # The reference (Sun/CCITT g711.c) encoder on the 14-bit magnitude; matches
    # what audioop.lin2ulaw produced byte for byte.
    value = sample >> 2
    mask = 0xFF
    if value < 0:
        value = -value
        mask = 0x7F
    value = min(value, _ENCODE_CLIP) + _ENCODE_BIAS
    segment = next(
        (i for i, end in enumerate(_SEGMENT_ENDS) if value <= end), len(_SEGMENT_ENDS)
    )
    if segment >= len(_SEGMENT_ENDS):
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _decode_sample(byte: int) -> int:
    byte = ~byte & 0xFF
    exponent = (byte >> 4) & 0x07
    magnitude = (((byte & 0x0F) << 3) + _BIAS) << exponent
    magnitude -= _BIAS
    return -magnitude if byte & 0x80 else magnitude


# Lookup tables: decode is 256 entries; encode covers every int16 (indexed by
# ``sample & 0xFFFF``, built on first use: it takes a few hundred ms), so both
# directions are a table walk per sample.
DECODE_TABLE: tuple[int, ...] = tuple(_decode_sample(b) for b in range(256))
# |sample| >> 7 fits a byte, so a frame's energy is one bytes.translate + sum in C.
_MAGNITUDE_TABLE = bytes(min(abs(v) >> 7, 255) for v in DECODE_TABLE)


@cache
def _encode_table() -> bytes:
    return bytes(_encode_sample(s - 65536 if s >= 32768 else s) for s in range(65536))


def encode(samples: array[int] | list[int]) -> bytes:
    """16-bit linear PCM samples -> mu-law bytes."""
    table = _encode_table()
    return bytes(table[s & 0xFFFF] for s in samples)


def decode(data: bytes) -> array[int]:
    """Mu-law bytes -> 16-bit linear PCM samples (an ``array('h')``)."""
    table = DECODE_TABLE
    return array("h", (table[b] for b in data))


def frame_energy(frame: bytes | str) -> float:
    """Mean absolute amplitude of a mu-law frame, 0.0 (silence) to ~1.0 (full scale).

    Accepts raw bytes or the base64 text of a Twilio/Realtime payload; a payload that
    is not valid base64 counts as silence.
    """
    if isinstance(frame, str):
        try:
            frame = base64.b64decode(frame, validate=False)
        except (binascii.Error, ValueError):
            return 0.0
    if not frame:
        return 0.0
    return sum(frame.translate(_MAGNITUDE_TABLE)) * 128 / (len(frame) * 32768)


def silence(duration_ms: int) -> bytes:
    return bytes([SILENCE_BYTE]) * (max(duration_ms, 0) * BYTES_PER_MS)


def speech_like(
    duration_ms: int, *, pitch_hz: float = 140.0, level: float = 0.35, start_ms: int = 0
) -> bytes:
    """A deterministic voiced signal that VADs take for speech.

    A fundamental with two harmonics, amplitude-modulated at a syllable rate (4 Hz)
    that never drops to silence, so a pause detector does not end the "turn" between
    syllables. ``start_ms`` continues the same signal from a later point.
    """
    first = start_ms * BYTES_PER_MS
    count = max(duration_ms, 0) * BYTES_PER_MS
    peak = 32767 * min(max(level, 0.0), 1.0)
    samples = array("h")
    two_pi = 2 * math.pi
    for n in range(first, first + count):
        t = n / SAMPLE_RATE
        envelope = 0.6 + 0.4 * math.sin(two_pi * 4.0 * t)
        wave_value = (
            math.sin(two_pi * pitch_hz * t)
            + 0.5 * math.sin(two_pi * 2 * pitch_hz * t)
            + 0.25 * math.sin(two_pi * 3 * pitch_hz * t)
        ) / 1.75
        samples.append(int(peak * envelope * wave_value))
    return encode(samples)


@cache
def speech_loop(pitch_hz: float = 140.0) -> bytes:
    """Two seconds of ``speech_like`` audio, computed once: cycle it, cheaply."""
    return speech_like(2000, pitch_hz=pitch_hz)


def speech_frame(index: int, *, pitch_hz: float = 140.0) -> bytes:
    """Frame ``index`` (20 ms each) of an endless speech-like signal, from a cache."""
    loop = speech_loop(pitch_hz)
    frames_in_loop = len(loop) // FRAME_BYTES
    start = (index % frames_in_loop) * FRAME_BYTES
    return loop[start : start + FRAME_BYTES]


def frames(data: bytes, *, pad: bool = True) -> list[bytes]:
    """Split mu-law audio into 160-byte frames; the last one padded with silence."""
    out = [data[i : i + FRAME_BYTES] for i in range(0, len(data), FRAME_BYTES)]
    if pad and out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + bytes([SILENCE_BYTE]) * (FRAME_BYTES - len(out[-1]))
    return out


def duration_ms(data: bytes | int) -> int:
    """Milliseconds of 8 kHz mu-law audio in ``data`` (or in that many bytes)."""
    size = data if isinstance(data, int) else len(data)
    return size // BYTES_PER_MS


def read_wav(path: str | Path) -> bytes:
    """A 16-bit PCM WAV file (any rate, any channel count) as 8 kHz mono mu-law."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(
                f"{path}: only 16-bit PCM WAV is supported "
                f"(this one has {8 * wav.getsampwidth()}-bit samples)"
            )
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":  # WAV data is little-endian
        samples.byteswap()
    mono = _downmix(samples, channels)
    return encode(resample(mono, rate, SAMPLE_RATE))


def _downmix(samples: array[int], channels: int) -> array[int]:
    if channels <= 1:
        return samples
    frames_count = len(samples) // channels
    return array(
        "h",
        (
            sum(samples[i * channels : (i + 1) * channels]) // channels
            for i in range(frames_count)
        ),
    )


def resample(samples: array[int], rate_in: int, rate_out: int) -> array[int]:
    """Linear-interpolation resampler: plenty for test speech, not for music."""
    if rate_in == rate_out or not samples:
        return array("h", samples)
    count = int(len(samples) * rate_out / rate_in)
    step = rate_in / rate_out
    last = len(samples) - 1
    out = array("h")
    for i in range(count):
        pos = i * step
        j = int(pos)
        frac = pos - j
        nxt = samples[j + 1] if j < last else samples[last]
        out.append(int(samples[j] + (nxt - samples[j]) * frac))
    return out


def pcm16_from_mulaw(data: bytes, *, rate_out: int = SAMPLE_RATE) -> bytes:
    """Mu-law -> little-endian 16-bit PCM at ``rate_out`` (for audio/pcm sessions)."""
    samples = resample(decode(data), SAMPLE_RATE, rate_out)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


# Frame tags: a magic byte pair, a 16-bit stream id, a 32-bit counter and a check
# byte overwrite the start of an otherwise speech-like frame. 9 of 160 bytes is
# inaudible for a benchmark and lets the sender match the frame when it comes back.
_TAG = struct.Struct(">2sHIB")
_TAG_MAGIC = b"\x5a\xa5"
TAG_BYTES = _TAG.size


def _tag_check(stream_id: int, counter: int) -> int:
    return zlib.crc32(struct.pack(">HI", stream_id, counter)) & 0xFF


def tag_frame(frame: bytes, *, stream_id: int, counter: int) -> bytes:
    """``frame`` with an identifying tag in its first bytes."""
    stream_id &= 0xFFFF
    counter &= 0xFFFFFFFF
    tag = _TAG.pack(_TAG_MAGIC, stream_id, counter, _tag_check(stream_id, counter))
    return tag + frame[TAG_BYTES:]


def read_tag(frame: bytes) -> tuple[int, int] | None:
    """``(stream_id, counter)`` of a tagged frame, or None if it carries no tag."""
    if len(frame) < TAG_BYTES or frame[:2] != _TAG_MAGIC:
        return None
    _, stream_id, counter, check = _TAG.unpack_from(frame)
    if check != _tag_check(stream_id, counter):
        return None
    return stream_id, counter
