"""Listen in and transcript deltas, without sockets: the call state's tap, the
runner's listeners and batches, and the assistant's words as generated."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from calls.callstate import TranscriptDelta
from calls.runtime import listen
from calls.runtime.bus.listen import listen_group, parse_listen
from calls.runtime.call_audio import CallAudio
from calls.runtime.listen import AudioRelay
from calls.tests.support.frames import (
    mulaw_b64,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_speech_started,
    rt_transcript_done,
    tw_media,
)
from calls.tests.support.frames.harness import Harness, of_type
from calls.tests.support.runner import make_runner, started

FRAME = mulaw_b64(160)


def delta_event(text: str, item_id: str = "item_A1") -> str:
    return json.dumps(
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "resp_1",
            "item_id": item_id,
            "delta": text,
        }
    )


def test_it_passes_assistant_words_on_as_they_are_generated() -> None:
    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    (first,) = of_type(h.rt(delta_event("Sure, ")), TranscriptDelta)
    (second,) = of_type(h.rt(delta_event("Friday.")), TranscriptDelta)
    assert (first.text, second.text, first.seq) == ("Sure, ", "Friday.", second.seq)
    h.rt(rt_delta())
    h.rt(rt_transcript_done(transcript="Sure, Friday."))
    assert h.rt(delta_event(" late")) == []  # the row is written: final
    assert h.rt(delta_event("x", item_id="item_unknown")) == []


def test_it_taps_both_sides_only_while_a_tap_is_set() -> None:
    audio = CallAudio()
    h = Harness(audio=audio).ready()
    h.tw(tw_media(FRAME))  # nobody listens: nothing collected anywhere
    relay = AudioRelay("CA1")
    audio.listen(relay)
    h.tw(tw_media(FRAME))
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    h.rt(rt_delta(nbytes=800))
    assert len(relay.caller) == 1 and len(relay.assistant) == 1
    h.rt(rt_speech_started("item_U2"))  # barge-in: Twilio drops the rest
    message = relay.take()
    assert message is not None
    assert message["cleared"] is True and message["assistant"] == []
    assert message["caller"] == [FRAME]
    assert relay.take() is None


def test_the_call_audio_records_every_caller_frame_and_relays_what_is_sent() -> None:
    recorded: list[tuple[str, str]] = []

    class Recording:
        def stream_started(self, now_ms: int) -> None: ...

        def caller_audio(self, payload: str, timestamp: str) -> None:
            recorded.append((payload, timestamp))

        def assistant_audio(
            self, item_id: str, end_ms: int, payload: str, now_ms: int
        ) -> None: ...

        def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None: ...

        def assistant_cleared(self) -> None: ...

    audio = CallAudio(Recording())
    relay = AudioRelay("CA1")
    audio.listen(relay)
    audio.caller_audio("held", "20", False)  # before the engine takes audio
    audio.caller_audio("sent", "40", True)
    assert recorded == [("held", "20"), ("sent", "40")]
    assert relay.caller == ["sent"]
    audio.listen(None)
    audio.caller_audio("later", "60", True)
    assert relay.caller == ["sent"] and len(recorded) == 3


async def test_it_relays_batches_only_while_someone_listens() -> None:
    published: list[tuple[str, dict[str, Any]]] = []

    async def publish(group: str, message: dict[str, Any]) -> None:
        published.append((group, message))

    runner, connector, _, _ = make_runner(publish_audio=publish)
    await started(runner, connector)
    await runner.twilio_text(tw_media(FRAME))
    await asyncio.sleep(0.3)
    assert runner.audio.listener is None and published == []

    runner.listen("viewer-1", True)
    runner.listen("viewer-2", True)
    assert runner.listening.count == 2 and runner.audio.listener is not None
    for _ in range(5):
        await runner.twilio_text(tw_media(FRAME))
    await asyncio.sleep(listen.BATCH_SECONDS * 1.5)
    ((group, message),) = published
    assert group == listen_group(runner.call_sid)
    assert message["type"] == "listen.audio" and len(message["caller"]) == 5

    runner.listen("viewer-1", False)
    assert runner.audio.listener is not None  # viewer-2 still listens
    runner.listen("viewer-2", False)
    assert runner.audio.listener is None and runner.listening.task is None
    await runner.twilio_text(tw_media(FRAME))
    await asyncio.sleep(listen.BATCH_SECONDS * 1.5)
    assert len(published) == 1


async def test_it_expires_a_listener_that_stops_renewing() -> None:
    runner, connector, _, _ = make_runner()
    runner.listening.ttl_seconds = 0.1
    runner.listening.publish = _discard
    await started(runner, connector)
    runner.listen("viewer-1", True)
    await asyncio.sleep(0.5)
    assert runner.listening.count == 0 and runner.audio.listener is None


async def test_it_stops_listening_when_the_call_ends() -> None:
    runner, connector, _, _ = make_runner(publish_audio=_discard)
    await started(runner, connector)
    runner.listen("viewer-1", True)
    await runner.twilio_closed()
    assert runner.listening.task is None and runner.audio.listener is None
    runner.listen("viewer-2", True)  # too late
    assert runner.listening.count == 0


def test_it_reads_listen_messages() -> None:
    assert parse_listen({"listener": "x", "on": True}) == ("x", True)
    assert parse_listen({"listener": "", "on": True}) is None
    assert parse_listen({"listener": "x", "on": "yes"}) is None
    assert listen_group("CA123") == "call-listen.CA123"


async def _discard(group: str, message: dict[str, Any]) -> None:
    pass
