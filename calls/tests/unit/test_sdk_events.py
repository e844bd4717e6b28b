"""Every client event the bridge can send, validated against the openai SDK's GA
types; every recorded server event too. The SDK is a test-only dependency.

The SDK models allow extra keys, so stray beta fields would pass validation while
OpenAI rejects them: they are checked for separately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from calls.callstate import SendEngine
from calls.callstate.ending import MAX_DURATION_GOODBYE
from calls.callstate.session import GREETING_INSTRUCTIONS
from calls.engines import openai_realtime as realtime
from calls.tests.support.frames import (
    HERE,
    rt_audio_done,
    rt_committed,
    rt_delta,
    rt_error,
    rt_input_done,
    rt_input_failed,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    rt_speech_started,
    rt_speech_stopped,
    rt_transcript_done,
    tw_mark,
    tw_media,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, snapshot
from calls.tests.support.realtime_sdk import (
    BETA_KEYS,
    BETA_TOP_LEVEL,
    ClientTA,
    ServerTA,
    all_keys,
)
from calls.vocabulary.persona import Persona

SNAPSHOTS = [
    snapshot(),
    snapshot(greeting="Hello!", transcription_language="en"),
    snapshot(
        turn_detection="semantic_vad",
        vad_eagerness="high",
        transcription_model="",
        voice="cedar",
    ),
    snapshot(temperature=1.3, instructions=""),
]


@pytest.mark.parametrize("snap", SNAPSHOTS)
def test_session_update_is_ga_and_carries_no_beta_keys(snap: dict[str, Any]) -> None:
    text = realtime.session_update(Persona.from_snapshot(snap))
    event = ClientTA.validate_json(text)
    assert type(event).__name__ == "SessionUpdateEvent"
    assert event.session.type == "realtime"
    assert event.session.audio.input.format.type == "audio/pcmu"
    assert event.session.audio.output.format.type == "audio/pcmu"
    session = json.loads(text)["session"]
    assert not all_keys(session) & BETA_KEYS
    assert not set(session) & BETA_TOP_LEVEL


def test_every_other_builder_is_a_valid_ga_client_event() -> None:
    texts = [
        realtime.audio_append("f39/fw==", json_safe=True),
        realtime.audio_append("f39/fw=="),
        realtime.item_truncate("item_A1", 1840),
        realtime.response_create(),
        realtime.response_create(
            GREETING_INSTRUCTIONS.format(greeting="Hi!"), event_id="evt_greeting"
        ),
        realtime.response_create(MAX_DURATION_GOODBYE, event_id="evt_goodbye"),
        realtime.response_cancel(),
        realtime.response_cancel("resp_1"),
        realtime.function_call_output("call_X9", '{"ok": true}'),
    ]
    names = [type(ClientTA.validate_json(t)).__name__ for t in texts]
    assert names == [
        "InputAudioBufferAppendEvent",
        "InputAudioBufferAppendEvent",
        "ConversationItemTruncateEvent",
        "ResponseCreateEvent",
        "ResponseCreateEvent",
        "ResponseCreateEvent",
        "ResponseCancelEvent",
        "ResponseCancelEvent",
        "ConversationItemCreateEvent",
    ]


def test_everything_a_scripted_call_sends_to_openai_is_valid() -> None:
    """Drive the bridge through greeting, answer, barge-in and goodbye."""
    h = Harness(snapshot(greeting="Thanks for calling!"))
    h.tw(tw_start())
    h.tw(tw_media())
    h.open()
    for text in (
        rt_session_updated(),
        rt_speech_started(),
        rt_speech_stopped(),
        rt_committed(),
        rt_response_created(),
        rt_item_added(),
        rt_delta(),
        rt_delta(),
    ):
        h.rt(text)
    h.tw(tw_mark("item_A1:100"))
    h.rt(rt_speech_started("item_U2"))
    h.rt(rt_response_done(status="cancelled"))
    h.timer("max_duration")
    sent = [x.text for x in h.log if isinstance(x, SendEngine)]
    kinds = [type(ClientTA.validate_json(t)).__name__ for t in sent]
    assert kinds == [
        "SessionUpdateEvent",
        "InputAudioBufferAppendEvent",
        "ResponseCreateEvent",
        "ConversationItemTruncateEvent",
        "ResponseCreateEvent",
    ]


def test_it_rejects_a_beta_event_name_as_a_control() -> None:
    with pytest.raises(ValidationError):
        ServerTA.validate_python({"type": "response.audio.delta"})


@pytest.mark.parametrize(
    "path", sorted(Path(HERE).glob("realtime_*.json")), ids=lambda p: p.stem
)
def test_recorded_server_events_are_valid_ga_events(path: Path) -> None:
    ServerTA.validate_json(path.read_text())


def test_the_test_builders_produce_valid_server_events() -> None:
    texts = [
        rt_session_updated(),
        rt_session_updated("alloy", out_fmt="audio/pcm"),
        rt_speech_started(),
        rt_speech_stopped(),
        rt_committed(),
        rt_input_done(),
        rt_input_failed(),
        rt_response_created(),
        rt_item_added(),
        rt_delta(),
        rt_audio_done(),
        rt_transcript_done(),
        rt_response_done(),
        rt_response_done(status="cancelled"),
        rt_response_done(
            status="failed", items=(), error={"type": "x", "code": "insufficient_quota"}
        ),
        rt_error("session_expired"),
        rt_error("unknown_parameter", param="session.x", event_id="evt_session_update"),
    ]
    for text in texts:
        ServerTA.validate_json(text)
