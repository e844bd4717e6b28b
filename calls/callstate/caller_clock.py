"""The caller-audio clock: the engine's audio time -> when that audio reached us.

Engines time the caller's speech in ms of caller audio appended since the session
began (``SpeechStopped.audio_end_ms``); the caller stopped speaking when the last
audio before that point reached us, which is what reply latency starts from.

Twilio sends 20 ms frames in real time, so audio time and our receive time move
together: the clock keeps one integer (mu-law bytes counted so far) and, only
when arrivals slip from that real-time line by more than ``SLIP_MS`` (network
jitter, a burst after a stall), a new checkpoint ``(audio_ms, receive_ms)`` in a
bounded ring. Steady audio costs an add and a compare per frame, no allocation.
No Django.
"""

from __future__ import annotations

from collections import deque

from calls.callstate.turns import b64_size

# Arrivals further than this from the line through the last checkpoint re-anchor it.
SLIP_MS = 10
# Checkpoints kept: at one slip a second, well over a minute of caller speech.
MAX_CHECKPOINTS = 128


class CallerAudioClock:
    __slots__ = ("anchor_audio_ms", "anchor_receive_ms", "bytes", "checkpoints")

    def __init__(self) -> None:
        self.bytes = 0  # caller audio counted into the engine's clock
        self.anchor_audio_ms = 0
        self.anchor_receive_ms: int | None = None
        self.checkpoints: deque[tuple[int, int]] = deque(maxlen=MAX_CHECKPOINTS)

    def add(self, payload: str, now_ms: int) -> None:
        """A frame of base64 ``payload`` reached us at ``now_ms``. The hot path:
        50 a second; the size comes from the length and padding, no decoding."""
        self.bytes += b64_size(payload)
        audio_ms = self.bytes >> 3
        anchor = self.anchor_receive_ms
        if anchor is not None:
            slip = now_ms - anchor - audio_ms + self.anchor_audio_ms
            if -SLIP_MS <= slip <= SLIP_MS:
                return
        self.anchor_audio_ms = audio_ms
        self.anchor_receive_ms = now_ms
        self.checkpoints.append((audio_ms, now_ms))

    def drop(self, payload: str) -> None:
        """A buffered frame was dropped and will never reach the engine: the audio
        after it comes earlier in the engine's clock."""
        self.bytes -= b64_size(payload)
        self.anchor_receive_ms = None  # re-anchor on the next frame
        self.checkpoints.clear()

    def received_ms(self, audio_ms: int) -> int | None:
        """When the caller audio up to ``audio_ms`` had reached us (None: unknown)."""
        for cp_audio, cp_receive in reversed(self.checkpoints):
            if cp_audio <= audio_ms:
                return cp_receive + (audio_ms - cp_audio)
        if self.checkpoints:  # before the oldest kept checkpoint: extrapolate back
            cp_audio, cp_receive = self.checkpoints[0]
            return cp_receive - (cp_audio - audio_ms)
        return None
