"""Every client event the GPT-Live engine sends, validated against the openai SDK's
``openai.types.live`` unions (with pydantic's discriminator), as the Realtime
events are in test_sdk_events.py; the test server events too. The SDK is a
test-only dependency.

The SDK models allow extra keys and GPT-Live rejects unknown fields, so unknown
keys are looked for separately; the wire TypedDicts (``ClientEventParam``) check
required keys such as ``delegation_id``. (Reference §6.)
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from calls.callstate import SendEngine
from calls.callstate.ending import MAX_DURATION_GOODBYE
from calls.callstate.keypad import DTMF_NOTE
from calls.callstate.session import GREETING_INSTRUCTIONS
from calls.engines.openai_live import LiveProtocol
from calls.engines.openai_live import events as live
from calls.tests.support.frames import tw_dtmf, tw_mark, tw_media, tw_start
from calls.tests.support.frames.harness import persona
from calls.tests.support.gpt_live_sdk import (
    ClientTA,
    check_client,
    check_server,
)
from calls.tests.support.live_frames import (
    SILENCE,
    SPEECH,
    LiveHarness,
    live_snapshot,
    lv_audio,
    lv_backend_completed,
    lv_closed,
    lv_error,
    lv_heard,
    lv_said,
    lv_started,
    lv_tool_call,
    lv_usage,
)

SNAPSHOTS = [
    live_snapshot(),
    live_snapshot(voice="vesper", instructions="", backend_instructions=""),
    live_snapshot(greeting="Hello!", model="gpt-live-1"),
]


@pytest.mark.parametrize("snap", SNAPSHOTS)
def test_it_starts_a_valid_session_with_no_unknown_fields(snap: dict[str, Any]) -> None:
    from calls.vocabulary.persona import Persona

    text = live.session_start(Persona.from_snapshot(snap))
    assert check_client(text) == "SessionStartEvent"
    event = ClientTA.validate_json(text)
    assert event.session.audio.format.type == "audio/pcmu"
    assert event.session.audio.format.rate == 8000


def test_every_builder_is_a_valid_live_client_event() -> None:
    protocol = LiveProtocol(persona())
    texts = [
        live.audio_append("f39/fw==", json_safe=True),
        live.audio_append("f39/fw=="),
        protocol.request_response(
            GREETING_INSTRUCTIONS.format(greeting="Hi!"), tag="greeting"
        ),
        protocol.request_response(MAX_DURATION_GOODBYE, tag="goodbye"),
        protocol.request_response(None, tag="tool"),
        *protocol.cancel(),
        *protocol.caller_note(DTMF_NOTE.format(digit="5")),
        *protocol.tool_result("call_7", '{"ok": true}'),
        live.session_close(),
    ]
    assert protocol.truncate("live_item_1", 500) == []
    assert [check_client(t) for t in texts] == [
        "InputAudioAppendEvent",
        "InputAudioAppendEvent",
        "InstructionsAppendEvent",
        "InstructionsAppendEvent",
        "ResponseCreateEvent",
        "InstructionsAppendEvent",
        "ThinkingAppendEvent",
        "ResponseItemCreateEvent",
        "SessionCloseEvent",
    ]


def test_everything_a_scripted_call_sends_to_gpt_live_is_valid() -> None:
    """Greeting, an answer, a barge-in, DTMF, a tool, and the goodbye."""
    h = LiveHarness(live_snapshot(greeting="Thanks for calling!"))
    h.tw(tw_start())
    h.tw(tw_media())
    h.open()
    h.lv(lv_started())
    for _ in range(10):
        h.lv(lv_audio(SPEECH))
    h.tw(tw_mark("live_item_1:100"))
    h.lv(lv_heard("Hi", 300))  # barge-in
    h.lv(lv_audio(SILENCE))
    h.tw(tw_dtmf("3"))
    h.log += h.state.on_tool_result("call_7", "{}", h.now)
    h.log += h.state.on_timer("max_duration", h.now)
    sent = [x.text for x in h.log if isinstance(x, SendEngine)]
    assert [check_client(t) for t in sent] == [
        "SessionStartEvent",
        "InputAudioAppendEvent",
        "InstructionsAppendEvent",
        "ThinkingAppendEvent",
        "ResponseItemCreateEvent",
        "ResponseCreateEvent",
        "InstructionsAppendEvent",
    ]


def test_the_test_builders_produce_valid_live_server_events() -> None:
    texts = [
        lv_started(),
        lv_audio(SPEECH),
        lv_heard("Where is", 5200),
        lv_said(" Let me check.", 7400),
        lv_usage(61),
        lv_closed("expired"),
        lv_error("unknown_parameter", "evt_session_start"),
        lv_backend_completed(),
        lv_tool_call(),
    ]
    assert [check_server(t) for t in texts] == [
        "SessionStartedEvent",
        "OutputAudioDeltaEvent",
        "InputTranscriptDeltaEvent",
        "OutputTranscriptDeltaEvent",
        "SessionUsageUpdatedEvent",
        "SessionClosedEvent",
        "ErrorEvent",
        "ResponseEvent",
        "ResponseEvent",
    ]


def test_the_checks_catch_what_gpt_live_rejects() -> None:
    with pytest.raises(ValidationError):  # no rate
        check_client(
            '{"type":"session.start","session":{"model":"gpt-live-1",'
            '"audio":{"format":{"type":"audio/pcmu"}}}}'
        )
    with pytest.raises(ValidationError):  # delegation_id is a required key
        check_client('{"type":"session.instructions.append","content":"x"}')
    with pytest.raises(ValidationError):  # no such event in GPT-Live
        check_client('{"type":"conversation.item.truncate","item_id":"a"}')
    with pytest.raises(AssertionError):  # unknown field
        check_client(
            '{"type":"session.start","session":{"model":"gpt-live-1",'
            '"temperature":0.8}}'
        )


def test_the_realtime_engine_passes_the_same_note_as_a_valid_user_item() -> None:
    from openai.types.realtime import RealtimeClientEvent

    from calls.engines.openai_realtime import RealtimeProtocol

    realtime_ta: TypeAdapter[Any] = TypeAdapter(
        Annotated[RealtimeClientEvent, Field(discriminator="type")]
    )
    protocol = RealtimeProtocol(persona())
    [note] = protocol.caller_note(DTMF_NOTE.format(digit="9"))
    event = realtime_ta.validate_json(note)
    assert type(event).__name__ == "ConversationItemCreateEvent"
    assert event.item.role == "user"
    assert event.item.content[0].text == "The caller pressed 9 on the phone keypad."
    assert [type(realtime_ta.validate_json(t)).__name__ for t in protocol.cancel()] == [
        "ResponseCancelEvent"
    ]
