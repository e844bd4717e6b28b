"""The greeting cache in the call state: a hit plays the greeting at ``start``
from memory and only tells the engine; a miss captures the greeting's audio."""

from __future__ import annotations

from typing import Any

from calls.callstate import SaveTranscript
from calls.callstate.greeting_cache import GreetingCache, GreetingKey
from calls.callstate.greeting_replay import CACHED_ITEM_ID, GreetingReplay
from calls.engines.openai_realtime import RealtimeProtocol
from calls.tests.support.frames import (
    mulaw_b64,
    rt_delta,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    rt_speech_started,
    tw_connected,
    tw_mark,
    tw_start,
)
from calls.tests.support.frames.harness import (
    Harness,
    marks,
    of_type,
    realtime_out,
    snapshot,
    twilio_out,
)
from calls.vocabulary.persona import Persona

GREETING = "Thanks for calling ACME Dental!"
CHUNKS = (mulaw_b64(800), mulaw_b64(800), mulaw_b64(400))  # 250 ms


def key(snap: dict[str, Any]) -> GreetingKey:
    p = Persona.from_snapshot(snap)
    return GreetingKey(p.greeting, p.voice, p.model, p.engine)


def harness(cache: GreetingCache, **changes: Any) -> Harness:
    snap = snapshot(greeting=GREETING, **changes)
    p = Persona.from_snapshot(snap)
    said = RealtimeProtocol(p).said(p.greeting)
    replay = GreetingReplay(cache, "1", key(snap), said)
    return Harness(snap, greeting_replay=replay)


def warm_cache() -> GreetingCache:
    cache = GreetingCache()
    cache.put("1", key(snapshot(greeting=GREETING)), CHUNKS)
    return cache


def test_it_plays_a_cached_greeting_at_start_before_the_engine_is_open() -> None:
    h = harness(warm_cache())
    h.tw(tw_connected())
    out = h.tw(tw_start())
    media = [f for f in twilio_out(out) if f["event"] == "media"]
    assert [f["media"]["payload"] for f in media] == list(CHUNKS)
    assert marks(out) == [
        f"{CACHED_ITEM_ID}:100",
        f"{CACHED_ITEM_ID}:200",
        f"{CACHED_ITEM_ID}:250",
    ]
    assert not h.state.session.leg_open
    [row] = of_type(out, SaveTranscript)
    assert (row.role, row.text, row.item_id) == ("assistant", GREETING, CACHED_ITEM_ID)


def test_it_tells_the_engine_the_greeting_was_said_and_asks_for_no_response() -> None:
    h = harness(warm_cache())
    h.tw(tw_connected())
    h.tw(tw_start())
    h.open()
    h.rt(rt_session_updated())
    sent = [e for e in realtime_out(h.log) if e["type"] != "session.update"]
    assert [e["type"] for e in sent] == ["conversation.item.create"]
    item = sent[0]["item"]
    assert item["role"] == "assistant"
    assert item["content"] == [{"type": "output_text", "text": GREETING}]
    assert all(e["type"] != "response.create" for e in realtime_out(h.log))


def test_it_clears_a_cached_greeting_on_barge_in_without_a_truncate() -> None:
    h = harness(warm_cache())
    h.ready()
    h.tw(tw_mark(f"{CACHED_ITEM_ID}:100"))
    out = h.rt(rt_speech_started())
    assert [f["event"] for f in twilio_out(out)] == ["clear"]
    assert realtime_out(out) == []  # no engine item to truncate
    [row] = of_type(out, SaveTranscript)
    assert row.interrupted and row.item_id == CACHED_ITEM_ID
    assert row.text and GREETING.startswith(row.text) and row.text != GREETING


def test_it_settles_a_cached_greeting_once_its_last_mark_echoes() -> None:
    h = harness(warm_cache())
    h.ready()
    h.tw(tw_mark(f"{CACHED_ITEM_ID}:250"))
    assert h.state.speech.playback.live == []


def play_greeting(h: Harness, *, completed: bool = True) -> None:
    h.ready()
    h.rt(rt_response_created("resp_G"))
    for chunk_bytes in (800, 800, 400):
        h.rt(rt_delta("resp_G", "item_G", chunk_bytes))
    status = "completed" if completed else "cancelled"
    h.rt(rt_response_done("resp_G", status, (("item_G", GREETING),)))


def test_it_captures_a_missed_greeting_so_the_next_call_hits() -> None:
    cache = GreetingCache()
    first = harness(cache)
    play_greeting(first)
    assert any(e["type"] == "response.create" for e in realtime_out(first.log))
    assert cache.get("1", key(snapshot(greeting=GREETING))) == CHUNKS
    second = harness(cache)
    second.tw(tw_connected())
    out = second.tw(tw_start())
    assert len([f for f in twilio_out(out) if f["event"] == "media"]) == 3


def test_it_keeps_no_greeting_the_caller_talked_over() -> None:
    cache = GreetingCache()
    h = harness(cache)
    h.ready()
    h.rt(rt_response_created("resp_G"))
    h.rt(rt_delta("resp_G", "item_G", 800))
    h.rt(rt_speech_started())
    h.rt(rt_response_done("resp_G", "cancelled", (("item_G", GREETING),)))
    assert len(cache) == 0


def test_it_keeps_no_greeting_of_a_response_that_did_not_complete() -> None:
    cache = GreetingCache()
    play_greeting(harness(cache), completed=False)
    assert len(cache) == 0


def test_it_misses_when_the_greeting_or_voice_changed() -> None:
    cache = warm_cache()
    for changes in ({"voice": "cedar"}, {"greeting": "Hello, ACME here."}):
        snap = snapshot(**{"greeting": GREETING, **changes})
        p = Persona.from_snapshot(snap)
        replay = GreetingReplay(
            cache, "1", key(snap), RealtimeProtocol(p).said(p.greeting)
        )
        h = Harness(snap, greeting_replay=replay)
        h.tw(tw_connected())
        out = h.tw(tw_start())
        assert [f for f in twilio_out(out) if f["event"] == "media"] == []
        h.open()
        sent = [e for e in realtime_out(h.log) if e["type"] != "session.update"]
        assert [e["type"] for e in sent] == ["response.create"]
        cache.put("1", key(snapshot(greeting=GREETING)), CHUNKS)


def test_it_takes_the_slow_path_when_the_engine_cannot_be_told() -> None:
    replay = GreetingReplay(warm_cache(), "1", key(snapshot(greeting=GREETING)), [])
    h = Harness(snapshot(greeting=GREETING), greeting_replay=replay)
    h.tw(tw_connected())
    out = h.tw(tw_start())
    assert [f for f in twilio_out(out) if f["event"] == "media"] == []
