"""The call's side of the greeting cache: play a cached greeting, or capture one.

On a hit the greeting's audio goes to Twilio at ``start``, from memory, as an
assistant turn of its own (synthetic item id ``CACHED_ITEM_ID``: marks, heard ms
and the barge-in clear work as for any turn; there is no engine item to
truncate), and the engine is only told the greeting was said. On a miss the
greeting response's audio is captured, and kept once it completed with no
barge-in. The cache itself (``calls.callstate.greeting_cache``) is pure and
process-local. No Django.
"""

from __future__ import annotations

from calls.callstate.greeting_cache import GreetingCache, GreetingCapture, GreetingKey

# Not an engine item id (those start "item_"): never truncated at the engine.
CACHED_ITEM_ID = "greeting-cached"


class GreetingReplay:
    """One call's use of the cache: ``chunks`` set means a hit."""

    def __init__(
        self, cache: GreetingCache, owner: str, key: GreetingKey, said: list[str]
    ) -> None:
        self.said = said  # what tells the engine; empty: the engine cannot be told
        self.chunks = cache.get(owner, key) if said else None
        self._cache, self._owner, self._key = cache, owner, key
        self.capture: GreetingCapture | None = None
        self.capture_response: str | None = None

    @property
    def hit(self) -> bool:
        return bool(self.chunks)

    def start_capture(self) -> None:
        """A miss: the greeting is being requested; collect its audio."""
        if self.said and not self.hit:
            self.capture = self._cache.capture(self._owner, self._key)

    def audio(self, response_id: str, payload: str) -> None:
        """A chunk of the greeting response (the first response we label so)."""
        if self.capture is None:
            return
        if self.capture_response is None:
            self.capture_response = response_id
        if response_id == self.capture_response:
            self.capture.add(payload)

    def done(self, response_id: str, completed: bool) -> None:
        if self.capture is None or response_id != self.capture_response:
            return
        if completed:
            self.capture.finish()
        else:
            self.capture.abort()
        self.capture = None

    def abort(self) -> None:
        """A barge-in or the end of the call before the greeting finished."""
        if self.capture is not None:
            self.capture.abort()
            self.capture = None
