"""The greeting audio cache: captured once, served while its key holds."""

from __future__ import annotations

from calls.callstate.greeting_cache import (
    MAX_GREETING_CHARS,
    GreetingCache,
    GreetingKey,
)

KEY = GreetingKey("Hello, this is Acme.", "marin", "gpt-realtime", "openai-realtime")


def test_it_serves_a_captured_greeting_in_order() -> None:
    cache = GreetingCache()
    assert cache.get("a1", KEY) is None
    capture = cache.capture("a1", KEY)
    capture.add("AAAA")
    capture.add("BBBB")
    assert cache.get("a1", KEY) is None  # not until the greeting was said in full
    capture.finish()
    assert cache.get("a1", KEY) == ("AAAA", "BBBB")
    assert cache.get("a2", KEY) is None


def test_it_drops_the_audio_when_the_key_changes() -> None:
    cache = GreetingCache()
    cache.put("a1", KEY, ("AAAA",))
    for changed in (
        GreetingKey("Hi!", KEY.voice, KEY.model, KEY.engine),
        GreetingKey(KEY.text, "cedar", KEY.model, KEY.engine),
        GreetingKey(KEY.text, KEY.voice, "gpt-realtime-mini", KEY.engine),
        GreetingKey(KEY.text, KEY.voice, KEY.model, "openai-live"),
    ):
        cache.put("a1", KEY, ("AAAA",))
        assert cache.get("a1", changed) is None
        assert len(cache) == 0  # stale: gone, not kept for the old key


def test_it_keeps_nothing_from_an_interrupted_or_overlong_greeting() -> None:
    cache = GreetingCache()
    capture = cache.capture("a1", KEY)
    capture.add("AAAA")
    capture.abort()
    capture.finish()
    assert cache.get("a1", KEY) is None
    long = cache.capture("a1", KEY)
    long.add("A" * MAX_GREETING_CHARS)
    long.add("AAAA")
    long.finish()
    assert cache.get("a1", KEY) is None
    cache.capture("a1", KEY).finish()  # nothing said: nothing kept
    assert len(cache) == 0


def test_it_forgets_an_assistant_on_request() -> None:
    cache = GreetingCache()
    cache.put("a1", KEY, ("AAAA",))
    cache.invalidate("a1")
    cache.invalidate("a1")
    assert cache.get("a1", KEY) is None
