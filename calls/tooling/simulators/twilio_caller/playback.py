"""Twilio's playback buffer for one stream, as the call simulator models it.

Audio from the server is queued and played 160 bytes (20 ms) per tick of the
stream's clock. A mark is due once all audio queued before it has played, at once
if nothing is queued; ``clear`` drops the queue and makes every pending mark due.
Pure bookkeeping: the stream sends the mark echoes it is handed.
"""

from __future__ import annotations

from collections import deque

from calls.tooling.simulators.audio import FRAME_BYTES


class Playback:
    def __init__(self, now: float) -> None:
        self.queued = 0  # bytes waiting to play
        self.received_total = 0
        self.played_total = 0
        self.bursts = 0  # times audio arrived while nothing was playing
        self.quiet_since: float | None = now  # when the queue last ran dry
        self._marks: deque[tuple[int, str]] = deque()

    @property
    def playing(self) -> bool:
        return self.queued > 0

    def add(self, size: int) -> None:
        if not self.queued:
            self.bursts += 1
        self.queued += size
        self.received_total += size
        self.quiet_since = None

    def mark(self, name: str) -> list[str]:
        """A mark arrived: the names due now (it, if nothing is queued)."""
        if self.queued:
            self._marks.append((self.received_total, name))
            return []
        return [name]

    def tick(self, now: float) -> tuple[int, list[str]]:
        """One 20 ms tick: (bytes played, marks now due)."""
        played = min(FRAME_BYTES, self.queued)
        if played:
            self.queued -= played
            self.played_total += played
            if not self.queued:
                self.quiet_since = now
        due = []
        while self._marks and self._marks[0][0] <= self.played_total:
            due.append(self._marks.popleft()[1])
        return played, due

    def clear(self, now: float) -> tuple[int, list[str]]:
        """Drop the queue: (bytes dropped, every pending mark)."""
        dropped = self.queued
        self.received_total -= dropped
        self.queued = 0
        self.quiet_since = now
        due = [name for _, name in self._marks]
        self._marks.clear()
        return dropped, due
