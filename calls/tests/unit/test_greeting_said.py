"""``EngineProtocol.said``: how a greeting played from the greeting cache is put
into the engine's conversation without asking the model to say it again."""

from __future__ import annotations

from typing import Annotated, Any

from openai.types.realtime import RealtimeClientEvent
from pydantic import Field, TypeAdapter

from calls.engines.openai_live import LiveProtocol
from calls.engines.openai_realtime import RealtimeProtocol
from calls.tests.support.frames.harness import persona

ClientTA: TypeAdapter[Any] = TypeAdapter(
    Annotated[RealtimeClientEvent, Field(discriminator="type")]
)


def test_it_tells_realtime_the_greeting_as_a_valid_assistant_item() -> None:
    [text] = RealtimeProtocol(persona()).said("Thanks for calling ACME!")
    event = ClientTA.validate_json(text)
    assert type(event).__name__ == "ConversationItemCreateEvent"
    assert event.item.role == "assistant"
    assert [(c.type, c.text) for c in event.item.content] == [
        ("output_text", "Thanks for calling ACME!")
    ]


def test_it_sends_no_response_request_with_the_said_greeting() -> None:
    texts = RealtimeProtocol(persona()).said("Hello!")
    assert all('"response.create"' not in t for t in texts)


def test_it_has_nothing_to_tell_gpt_live_so_the_slow_path_is_taken() -> None:
    assert LiveProtocol(persona()).said("Hello!") == []
