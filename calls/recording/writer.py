"""The recording on disk: a spool while the call runs, a WAV file at its end.

The spool is one raw mono mu-law file per channel, named after the call, where
byte N is sample N of the call's timeline. Each flush (every few seconds, off
the audio path) decodes the base64 the timeline collected and writes it at its
place; a gap is filled with mu-law silence (0xFF) so a lost frame stays silent
rather than loud (a file hole would read as 0x00, full scale). A crash of the
process loses only what was not yet flushed; the spool files stay behind.

At the end the two channels are interleaved into one stereo 8 kHz WAV: caller
left, assistant right. The codec is mu-law (WAVE_FORMAT_MULAW, 0.96 MB a
minute) by default — Chromium and Safari play it in <audio>; ``pcm16`` writes
16-bit PCM (1.92 MB a minute) for players that only take PCM (Firefox has not
always decoded mu-law WAV). No Django.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from calls.recording.timeline import BYTES_PER_MS, SAMPLE_RATE, Write

MULAW = "mulaw"
PCM16 = "pcm16"
CODECS = (MULAW, PCM16)
SILENCE = 0xFF  # mu-law for 0
BLOCK = 64 * 1024  # samples interleaved at a time at the end
CHANNEL_NAMES = ("caller", "assistant")


def _ulaw_to_linear(byte: int) -> int:
    """G.711 mu-law byte -> 16-bit linear sample."""
    u = ~byte & 0xFF
    magnitude = ((((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)) - 0x84
    return -magnitude if u & 0x80 else magnitude


# Two translate() tables (low and high byte of the little-endian sample) decode
# mu-law at C speed, without the deprecated ``audioop``.
_LINEAR = [_ulaw_to_linear(b) & 0xFFFF for b in range(256)]
PCM_LOW = bytes(v & 0xFF for v in _LINEAR)
PCM_HIGH = bytes(v >> 8 for v in _LINEAR)


def ulaw_to_pcm16(data: bytes) -> bytes:
    out = bytearray(len(data) * 2)
    out[0::2] = data.translate(PCM_LOW)
    out[1::2] = data.translate(PCM_HIGH)
    return bytes(out)


def wav_header(codec: str, frames: int, channels: int = 2) -> bytes:
    """The RIFF header for ``frames`` sample frames of ``codec``."""
    if codec == PCM16:
        align = 2 * channels
        fmt = struct.pack(
            "<HHIIHH", 1, channels, SAMPLE_RATE, SAMPLE_RATE * align, align, 16
        )
        chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    else:
        # Non-PCM WAV: an 18-byte fmt (cbSize 0) and the fact chunk it requires.
        fmt = struct.pack(
            "<HHIIHHH", 7, channels, SAMPLE_RATE, SAMPLE_RATE * channels, channels, 8, 0
        )
        align = channels
        chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        chunks += b"fact" + struct.pack("<II", 4, frames)
    data_size = frames * align
    body = b"WAVE" + chunks + b"data" + struct.pack("<I", data_size)
    # RIFF size: everything after its own 8 bytes.
    return b"RIFF" + struct.pack("<I", len(body) + data_size) + body


@dataclass(frozen=True)
class RecordingFile:
    path: Path
    codec: str
    channels: int
    sample_rate: int
    duration_ms: int
    size_bytes: int
    sha256: str

    @property
    def format(self) -> str:
        """What ``Recording.format`` says: container and codec."""
        return f"wav-{self.codec}"


class SpoolWriter:
    """One call's spool files; ``write`` and ``finish`` run in a worker thread."""

    def __init__(
        self, directory: Path, name: str, codec: str = MULAW, *, resume: bool = False
    ) -> None:
        """``resume``: open a spool a crashed process left (``recover``)."""
        if codec not in CODECS:
            raise ValueError(f"unknown recording codec {codec!r}")
        directory.mkdir(parents=True, exist_ok=True)
        self.codec = codec
        self.paths = [directory / f"{name}.{c}.raw" for c in CHANNEL_NAMES]
        self.wav_path = directory / f"{name}.wav"
        if resume:
            for path in self.paths:
                path.touch()
        self.files: list[BinaryIO] = [
            open(p, "r+b") if resume else open(p, "w+b")  # noqa: SIM115
            for p in self.paths
        ]
        self.sizes = [os.path.getsize(p) for p in self.paths]
        self.lock = threading.Lock()  # a cancelled flush may still be running
        self.closed = False

    def write(self, writes: list[Write]) -> None:
        with self.lock:
            if self.closed:
                return
            for write in writes:
                data = base64.b64decode(write.payload)
                if write.limit is not None:
                    data = data[: write.limit]
                self._put(write.channel, write.position, data)
            for f in self.files:
                f.flush()  # to the OS: a crash of this process keeps it

    def _put(self, channel: int, position: int, data: bytes) -> None:
        f = self.files[channel]
        size = self.sizes[channel]
        if position > size:
            f.seek(size)
            f.write(bytes([SILENCE]) * (position - size))
        else:
            f.seek(position)
        f.write(data)
        self.sizes[channel] = max(size, position + len(data))

    def finish(
        self, length: int, *, before: bytes = b"", keep: int = 0
    ) -> RecordingFile:
        """Both channels padded to ``length`` bytes, interleaved into the WAV;
        the spool files are removed.

        A later stream of the call (its audio starts at sample ``keep``) keeps
        the recording so far: its first ``keep`` sample frames come from
        ``before``, the earlier WAV's frames in this codec (``wav_frames``).
        """
        with self.lock:
            length = max(length, keep, *self.sizes)
            for channel in (0, 1):
                self._put(channel, length, b"")
            digest = hashlib.sha256()
            header = wav_header(self.codec, length)
            with open(self.wav_path, "wb") as out:
                out.write(header)
                digest.update(header)
                if keep:
                    size = keep * (4 if self.codec == PCM16 else 2)
                    quiet = b"\x00" if self.codec == PCM16 else bytes([SILENCE])
                    kept = before[:size] + quiet * max(0, size - len(before))
                    out.write(kept)
                    digest.update(kept)
                for f in self.files:
                    f.seek(keep)
                left, right = self.files
                for _ in range(keep, length, BLOCK):
                    a, b = left.read(BLOCK), right.read(BLOCK)
                    frames = bytearray(len(a) * 2)
                    frames[0::2], frames[1::2] = a, b
                    block = bytes(frames)
                    if self.codec == PCM16:
                        block = ulaw_to_pcm16(block)
                    out.write(block)
                    digest.update(block)
            self._close()
            for path in self.paths:
                path.unlink(missing_ok=True)
            return RecordingFile(
                path=self.wav_path,
                codec=self.codec,
                channels=2,
                sample_rate=SAMPLE_RATE,
                duration_ms=length // BYTES_PER_MS,
                size_bytes=os.path.getsize(self.wav_path),
                sha256=digest.hexdigest(),
            )

    def discard(self) -> None:
        """Drop the spool and any WAV (the recording is not wanted after all)."""
        with self.lock:
            self._close()
            for path in [*self.paths, self.wav_path]:
                path.unlink(missing_ok=True)

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            for f in self.files:
                f.close()


def wav_frames(data: bytes) -> tuple[bytes, str] | None:
    """A WAV file's sample frames and codec (``MULAW`` or ``PCM16``); None if
    it is not a WAV this module writes."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, codec = 12, ""
    while pos + 8 <= len(data):
        chunk = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if chunk == b"fmt ":
            if size < 2 or pos + 10 > len(data):
                return None  # a truncated format chunk: not a WAV we can read
            (tag,) = struct.unpack("<H", data[pos + 8 : pos + 10])
            codec = {1: PCM16, 7: MULAW}.get(tag, "")
        elif chunk == b"data":
            return (data[pos + 8 : pos + 8 + size], codec) if codec else None
        pos += 8 + size + (size & 1)
    return None


def spooled_calls(directory: Path) -> list[str]:
    """The calls with a spool (or an unsaved WAV) in ``directory``."""
    if not directory.is_dir():
        return []
    names = set()
    for path in directory.iterdir():
        for suffix in (".caller.raw", ".assistant.raw", ".wav"):
            if path.name.endswith(suffix):
                names.add(path.name.removesuffix(suffix))
    return sorted(names)
