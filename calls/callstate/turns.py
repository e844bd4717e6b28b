"""Per-turn bookkeeping for the call state: assistant playback and caller turns.

Audio amounts are tracked in mu-law bytes (8 bytes = 1 ms at 8 kHz), computed from
base64 lengths without decoding. Marks are named ``"<item_id>:<ms sent so far>"`` so
an echo says exactly how far playback got, whatever order or batch it arrives in
(after a ``clear`` Twilio echoes every pending mark at once). No Django.
"""

from __future__ import annotations

from dataclasses import dataclass

BYTES_PER_MS = 8


def b64_size(data: str) -> int:
    """Decoded size of a base64 string, from its length and padding alone."""
    n = len(data)
    if not n:
        return 0
    pad = 2 if data.endswith("==") else 1 if data[-1] == "=" else 0
    return n * 3 // 4 - pad


def mark_name(item_id: str, ms: int) -> str:
    return f"{item_id}:{ms}"


def parse_mark_name(name: str) -> tuple[str, int] | None:
    """``"<item_id>:<ms>"`` -> (item_id, ms); None if not one of ours."""
    item_id, sep, ms = name.rpartition(":")
    if not sep or not item_id or not ms.isdigit() or len(ms) > 9:
        return None
    return item_id, int(ms)


def cut_transcript(text: str, heard_ms: int, total_ms: int) -> str:
    """The part of ``text`` the caller heard, assuming speech is evenly paced.

    An approximation: the Realtime API reports audio per item but not which word
    was playing. We keep ``heard_ms / total_ms`` of the characters, backed off to
    the last whole word, so the row never claims more than was heard (roughly).
    """
    if heard_ms <= 0 or total_ms <= 0 or not text:
        return ""
    if heard_ms >= total_ms:
        return text
    n = len(text) * heard_ms // total_ms
    if n < len(text) and not text[n].isspace():
        space = text.rfind(" ", 0, n + 1)
        n = space if space >= 0 else 0
    return text[:n].rstrip()


@dataclass(slots=True)
class AssistantTurn:
    """One assistant audio item: what was generated, sent and heard."""

    item_id: str
    response_id: str
    seq: int
    offset_ms: int
    # Local time the caller stopped speaking before this turn (their last audio
    # reached us), for the first turn after their words whatever asked for it;
    # None for a turn after none (a greeting, a second turn), so no latency.
    stopped_ms: int | None = None
    # Local time the engine's end-of-speech event (VAD) arrived.
    vad_stopped_ms: int | None = None
    generated_bytes: int = 0
    sent_bytes: int = 0
    heard_ms: int = 0
    marked_ms: int = -1  # ms named in the last mark sent
    audio_done: bool = False
    cleared: bool = False  # Twilio clear sent: later echoes prove nothing
    interrupted: bool = False
    transcript: str | None = None
    written: bool = False
    reply_latency_ms: int | None = None
    heard_latency_ms: int | None = None
    engine_latency_ms: int | None = None

    @property
    def sent_ms(self) -> int:
        return self.sent_bytes // BYTES_PER_MS

    @property
    def generated_ms(self) -> int:
        return self.generated_bytes // BYTES_PER_MS

    @property
    def queued(self) -> bool:
        """Audio sent to Twilio that it has not confirmed playing."""
        return not self.cleared and self.sent_ms > self.heard_ms

    @property
    def finished(self) -> bool:
        return self.cleared or (self.audio_done and self.heard_ms >= self.sent_ms)

    def text_heard(self) -> str:
        text = self.transcript or ""
        if not self.interrupted:
            return text
        return cut_transcript(text, self.heard_ms, self.generated_ms)


@dataclass(slots=True)
class CallerTurn:
    """One caller utterance (a Realtime input item), its row reserved early."""

    item_id: str
    seq: int
    offset_ms: int
    written: bool = False
