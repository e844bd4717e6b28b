"""A per-assistant cache of the greeting's audio, so the next call need not wait.

The greeting costs an engine round trip (connection accepted, then the model's
first audio; ``make bench-greeting`` measures it). Its audio only depends on
the greeting text, the voice, the model and the engine (``GreetingKey``), so one
call's greeting can be captured (``capture``: every audio chunk of the greeting
response, in order, then ``finish``) and the next call with the same key can play
it from memory at Twilio's ``start`` while the engine is only told the greeting
was said. A changed key (the assistant was edited) drops the old entry.

The call's side is ``calls.callstate.greeting_replay`` (on with the
``GREETING_CACHE`` setting).
Pure and process-local: no Django, no I/O; one cache per server process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

# 30 s of 8 kHz mu-law as base64: a longer "greeting" is not one worth caching.
MAX_GREETING_CHARS = 30 * 8000 * 4 // 3


@dataclass(frozen=True, slots=True)
class GreetingKey:
    """What the greeting's audio depends on; any change means new audio."""

    text: str
    voice: str
    model: str
    engine: str


class GreetingCapture:
    """One call's greeting audio being collected for ``GreetingCache``."""

    def __init__(self, cache: GreetingCache, owner: str, key: GreetingKey) -> None:
        self._cache, self._owner, self._key = cache, owner, key
        self._chunks: list[str] = []
        self._chars = 0
        self._open = True

    def add(self, payload: str) -> None:
        """One base64 audio chunk of the greeting, in the order it was played."""
        if not self._open:
            return
        self._chars += len(payload)
        if self._chars > MAX_GREETING_CHARS:
            self.abort()
            return
        self._chunks.append(payload)

    def finish(self) -> None:
        """The greeting was said in full: keep it (an empty one is not kept)."""
        if self._open and self._chunks:
            self._cache.put(self._owner, self._key, tuple(self._chunks))
        self.abort()

    def abort(self) -> None:
        """Interrupted, cut short or failed: keep nothing."""
        self._open = False
        self._chunks = []


class GreetingCache:
    """``owner`` (an assistant's id) -> its greeting audio for one ``GreetingKey``."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[GreetingKey, tuple[str, ...]]] = {}
        self._lock = threading.Lock()  # the sweeper and admin run on other threads

    def get(self, owner: str, key: GreetingKey) -> tuple[str, ...] | None:
        """The cached chunks if they were captured with ``key``; else None."""
        with self._lock:
            entry = self._entries.get(owner)
            if entry is None:
                return None
            if entry[0] != key:
                del self._entries[owner]  # the assistant changed: stale audio
                return None
            return entry[1]

    def capture(self, owner: str, key: GreetingKey) -> GreetingCapture:
        return GreetingCapture(self, owner, key)

    def put(self, owner: str, key: GreetingKey, chunks: tuple[str, ...]) -> None:
        with self._lock:
            self._entries[owner] = (key, chunks)

    def invalidate(self, owner: str) -> None:
        with self._lock:
            self._entries.pop(owner, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
