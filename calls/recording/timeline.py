"""Where each piece of a call's audio goes on the call's own timeline.

Two channels, 8 kHz mu-law, one byte a sample, position 0 = the stream's start
(plus ``offset_ms`` for a later stream of the same call, so transfers and new
streams continue one timeline):

- the caller: each inbound frame at its Twilio ``media.timestamp`` (ms since the
  stream started, Twilio's clock). A lost frame leaves silence where it was;
  nothing after it shifts.
- the assistant as the caller heard it. Sending a frame proves nothing (answers
  arrive faster than real time and queue at Twilio); a mark echo proves the
  audio before it finished playing at the echo's time. So sent frames wait in
  ``pending`` until an echo covers them, and are then placed to end at the echo
  (back to back, never over audio already placed). At a ``clear`` (barge-in) the
  pending frames are placed forward from the last proven audio and cut at the
  clear: what Twilio flushed never played and is not in the recording. The end
  of the call is treated the same way.

The audio path only appends to lists here (no base64 decoding, no files); the
writer drains ``writes`` every few seconds and decodes off the audio path.
Pure: times are given, never read from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 8000
BYTES_PER_MS = SAMPLE_RATE // 1000  # mu-law: one byte a sample
CALLER = 0
ASSISTANT = 1


@dataclass(slots=True)
class Write:
    """``payload`` (base64 mu-law) decoded and written at byte ``position`` of
    ``channel``; only its first ``limit`` bytes if set (audio cut by a clear)."""

    channel: int
    position: int
    payload: str
    limit: int | None = None


def b64_size(data: str) -> int:
    """Decoded size of base64 text from its length and padding alone."""
    n = len(data)
    if not n:
        return 0
    pad = 2 if data.endswith("==") else 1 if data[-1] == "=" else 0
    return n * 3 // 4 - pad


@dataclass(slots=True)
class _Sent:
    item_id: str
    end_ms: int  # the item's audio ms sent once this chunk is (its mark's ms)
    payload: str
    size: int
    sent_at: int  # byte position on the timeline when it was sent


class Timeline:
    def __init__(self, offset_ms: int = 0) -> None:
        self.offset = offset_ms * BYTES_PER_MS
        self.started_ms: int | None = None  # the caller of now_ms' stream start
        self.writes: list[Write] = []
        # Caller frames as they came: (Twilio timestamp text, base64 payload).
        # Kept apart from ``writes`` so the hot path is one append of a tuple.
        self.caller: list[tuple[str, str]] = []
        self.pending: list[_Sent] = []
        self.cursor = self.offset  # end of the assistant audio placed so far
        self.end = self.offset  # furthest byte of either channel
        self.caller_next = self.offset  # where a frame without a timestamp goes

    # -- fed from the call, with the call's clock ------------------------------

    def stream_started(self, now_ms: int) -> None:
        self.started_ms = now_ms

    def caller_audio(self, payload: str, timestamp: str) -> None:
        self.caller.append((timestamp, payload))

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None:
        """A chunk of ``item_id`` sent to Twilio; its audio ends at ``end_ms``
        of the item (what a mark after it would say)."""
        self.pending.append(
            _Sent(item_id, end_ms, payload, b64_size(payload), self._at(now_ms))
        )

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None:
        """A mark echo: ``item_id`` played up to ``heard_ms`` by ``now_ms``."""
        # Twilio plays in order: the proven chunks are a prefix of ``pending``,
        # up to this item's last chunk within ``heard_ms`` (stop past it, so an
        # echo costs what it proves, not the whole queue).
        last = -1
        for i, sent in enumerate(self.pending):
            if sent.item_id == item_id:
                if sent.end_ms > heard_ms:
                    break
                last = i
        if last < 0:
            return
        proven = self.pending[: last + 1]
        del self.pending[: last + 1]
        total = sum(sent.size for sent in proven)
        start = max(self.cursor, self._at(now_ms) - total)
        for sent in proven:
            self._assistant_write(start, sent.payload, None)
            start += sent.size
        self.cursor = start

    def assistant_cleared(self, now_ms: int) -> None:
        """Twilio dropped what it had not played: keep what played before now."""
        stop = self._at(now_ms)
        position = self.cursor
        for sent in self.pending:
            position = max(position, sent.sent_at)
            if position >= stop:
                break
            limit = stop - position
            self._assistant_write(
                position, sent.payload, limit if limit < sent.size else None
            )
            position += min(sent.size, limit)
        self.pending.clear()
        self.cursor = max(self.cursor, min(position, stop))

    def finish(self, now_ms: int) -> int:
        """The stream ended: what was still unproven is cut at the end, which
        is returned as a byte position (the recording's length so far)."""
        self.assistant_cleared(now_ms)
        self.end = max(self.end, self._at(now_ms))
        return self.end

    # -- for the writer ------------------------------------------------------

    def drain(self) -> list[Write]:
        """Everything placed since the last drain. Cheap: runs on the loop."""
        writes, self.writes = self.writes, []
        caller, self.caller = self.caller, []
        for timestamp, payload in caller:
            ms = _ms(timestamp)
            position = self.caller_next if ms < 0 else self.offset + ms * BYTES_PER_MS
            writes.append(Write(CALLER, position, payload))
            self.caller_next = position + b64_size(payload)
            self.end = max(self.end, self.caller_next)
        return writes

    def _assistant_write(self, position: int, payload: str, limit: int | None) -> None:
        self.writes.append(Write(ASSISTANT, position, payload, limit))
        self.end = max(
            self.end, position + (b64_size(payload) if limit is None else limit)
        )

    def _at(self, now_ms: int) -> int:
        """``now_ms`` of the call's clock as a byte position on the timeline."""
        started = self.started_ms if self.started_ms is not None else now_ms
        return self.offset + max(0, now_ms - started) * BYTES_PER_MS


def _ms(timestamp: str) -> int:
    """Twilio's ``media.timestamp`` (decimal ms text); -1 if it is not one."""
    try:
        return max(0, int(timestamp))
    except ValueError:
        return -1
