"""Energy-based voice activity detection on mu-law input, timed by the audio itself.

Follows the session's ``turn_detection``: ``threshold`` maps to a frame-energy level,
speech must last ``MIN_SPEECH_MS`` to start a turn (reported ``prefix_padding_ms``
earlier, like the real server), and ``silence_duration_ms`` of quiet ends it.
``semantic_vad`` is treated as server VAD with a silence taken from its eagerness.
All times are in ms of audio appended, so the result does not depend on how fast
the client sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calls.tooling.simulators.audio import BYTES_PER_MS, frame_energy

MIN_SPEECH_MS = 60
SEMANTIC_SILENCE_MS = {"low": 1200, "medium": 700, "auto": 700, "high": 350}


def energy_level(threshold: float) -> float:
    """Frame energy (see ``audio.frame_energy``) that counts as speech."""
    return 0.002 + 0.06 * threshold * threshold


@dataclass(frozen=True)
class VadEvent:
    kind: str  # "started" or "stopped"
    audio_ms: int  # audio_start_ms or audio_end_ms


class EnergyVad:
    def __init__(self, turn_detection: dict[str, Any] | None) -> None:
        self.position_ms = 0
        self.in_speech = False
        self._voiced_since: int | None = None
        self._quiet_since: int | None = None
        self.configure(turn_detection)

    def configure(self, turn_detection: dict[str, Any] | None) -> None:
        self.enabled = turn_detection is not None
        td = turn_detection or {}
        if td.get("type") == "semantic_vad":
            self.level = energy_level(0.5)
            self.prefix_ms = 300
            self.silence_ms = SEMANTIC_SILENCE_MS.get(
                td.get("eagerness") or "auto", 700
            )
        else:
            self.level = energy_level(float(td.get("threshold", 0.5)))
            self.prefix_ms = int(td.get("prefix_padding_ms", 300))
            self.silence_ms = int(td.get("silence_duration_ms", 500))

    def feed(self, chunk: bytes) -> VadEvent | None:
        """Account for one appended chunk; a turn boundary if it completes one."""
        start = self.position_ms
        self.position_ms += len(chunk) // BYTES_PER_MS
        if not self.enabled:
            return None
        voiced = frame_energy(chunk) >= self.level
        if not self.in_speech:
            if not voiced:
                self._voiced_since = None
                return None
            if self._voiced_since is None:
                self._voiced_since = start
            if self.position_ms - self._voiced_since < MIN_SPEECH_MS:
                return None
            self.in_speech = True
            self._quiet_since = None
            return VadEvent("started", max(0, self._voiced_since - self.prefix_ms))
        if voiced:
            self._quiet_since = None
            return None
        if self._quiet_since is None:
            self._quiet_since = start
        if self.position_ms - self._quiet_since < self.silence_ms:
            return None
        self.in_speech = False
        self._voiced_since = None
        # Like the real server, the end includes the silence that ended the turn.
        return VadEvent("stopped", self.position_ms)

    def reset(self) -> None:
        """Forget any turn in progress (input_audio_buffer.clear)."""
        self.in_speech = False
        self._voiced_since = None
        self._quiet_since = None
