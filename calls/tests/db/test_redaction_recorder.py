"""The recorder redacts transcript rows before they are stored or shown live."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from calls.callstate import actions as a
from calls.models import Call, TranscriptEntry
from calls.runtime.assembly import build_runner
from calls.runtime.bus import live_events
from calls.runtime.log_writer import CallLogWriter
from calls.services.routing import call_route
from calls.vocabulary.persona import Persona

CALL_SID = "CA" + "7" * 32
CARD_LINE = "my card is 4111 1111 1111 1111 and my email is jane@example.com"


def make_call(phone_number: Any) -> None:
    call_route(call_sid=CALL_SID, from_number="+15557654321", to_number="+15550000001")


def stored_texts() -> list[tuple[str, str]]:
    call = Call.objects.get(call_sid=CALL_SID)
    return list(
        TranscriptEntry.objects.filter(call=call)
        .order_by("seq")
        .values_list("text", "tool_arguments")
    )


@pytest.fixture
def published(monkeypatch: Any) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    async def transcript(call_sid: str, entry: dict[str, Any]) -> None:
        sent.append(("transcript", entry["text"]))

    async def delta(call_sid: str, seq: int, text: str) -> None:
        sent.append(("delta", text))

    monkeypatch.setattr(live_events, "publish_transcript", transcript)
    monkeypatch.setattr(live_events, "publish_delta", delta)
    return sent


@pytest.mark.django_db(transaction=True)
async def test_it_stores_and_publishes_a_caller_card_number_redacted(
    phone_number: Any, published: list[tuple[str, Any]]
) -> None:
    await asyncio.to_thread(make_call, phone_number)
    recorder = CallLogWriter(CALL_SID, redact=lambda: ("card_number", "email"))
    recorder.start()
    recorder.put(a.SaveTranscript(seq=1, role="caller", text=CARD_LINE))
    recorder.put(
        a.SaveTranscript(
            seq=2,
            role="tool",
            text="charged 4111111111111111",
            tool_name="pay",
            tool_arguments='{"card": "4111 1111 1111 1111"}',
            tool_status="ok",
        )
    )
    await recorder.drain()

    expected_line = "my card is [card number] and my email is [email]"
    assert await asyncio.to_thread(stored_texts) == [
        (expected_line, ""),
        ("charged [card number]", '{"card": "[card number]"}'),
    ]
    assert published == [
        ("transcript", expected_line),
        ("transcript", "charged [card number]"),
    ]


@pytest.mark.django_db(transaction=True)
async def test_it_holds_back_live_deltas_when_redacting(
    phone_number: Any, published: list[tuple[str, Any]]
) -> None:
    await asyncio.to_thread(make_call, phone_number)
    recorder = CallLogWriter(CALL_SID, redact=lambda: ("card_number",))
    recorder.start()
    recorder.put(a.TranscriptDelta(seq=1, text="your card 4111 1111 "))
    recorder.put(a.TranscriptDelta(seq=1, text="1111 1111 is on file"))
    recorder.put(
        a.SaveTranscript(
            seq=1, role="assistant", text="your card 4111 1111 1111 1111 is on file"
        )
    )
    await recorder.drain()

    assert published == [("transcript", "your card [card number] is on file")]


@pytest.mark.django_db(transaction=True)
async def test_it_stores_text_unchanged_without_redaction(
    phone_number: Any, published: list[tuple[str, Any]]
) -> None:
    await asyncio.to_thread(make_call, phone_number)
    recorder = CallLogWriter(CALL_SID)
    recorder.start()
    recorder.put(a.TranscriptDelta(seq=1, text="hello"))
    recorder.put(a.SaveTranscript(seq=1, role="caller", text=CARD_LINE))
    await recorder.drain()

    assert await asyncio.to_thread(stored_texts) == [(CARD_LINE, "")]
    assert published == [("delta", "hello"), ("transcript", CARD_LINE)]


@pytest.mark.django_db
def test_it_gives_the_runner_the_assistants_redaction_kinds(assistant: Any) -> None:
    assistant.redact = ["ssn", "email"]
    assistant.save()

    class NoTwilio:
        pass

    runner = build_runner(
        call_sid=CALL_SID,
        persona=assistant.persona(),
        twilio=NoTwilio(),  # type: ignore[arg-type]
    )
    recorder: Any = runner.call_log
    assert recorder.redacting() == {"ssn", "email"}


def test_it_keeps_redacting_what_an_earlier_assistant_asked_for() -> None:
    # A handoff swaps the persona; rows queued before it stay redacted.
    current = [Persona(redact=("card_number",))]
    recorder = CallLogWriter(CALL_SID, redact=lambda: current[0].redact)
    assert recorder.redacting() == {"card_number"}
    current[0] = Persona(redact=("email",))
    assert recorder.redacting() == {"card_number", "email"}
