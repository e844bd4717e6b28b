"""A transfer nobody answered: the ``<Dial action>``, a second stream of the same
call, and that stream's call state seeded with the conversation so far."""

from __future__ import annotations

import datetime as dt
import json
import time
import xml.etree.ElementTree as ET
from typing import Annotated, Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from openai.types.realtime import RealtimeClientEvent
from pydantic import Field, TypeAdapter

from assistants.models import PhoneNumber, TransferDestination
from calls.callstate import SaveTranscript
from calls.callstate.continuation import (
    TRANSFER_UNANSWERED,
    Continuation,
    no_answer_note,
)
from calls.engines.openai_live import NAME as OPENAI_LIVE
from calls.engines.openai_live import LiveProtocol
from calls.engines.openai_realtime import RealtimeProtocol
from calls.engines.openai_realtime import events as rt_events
from calls.models import Call, CallStatus, EndReason, TranscriptEntry
from calls.services.lifecycle import (
    call_claim_stream,
    call_finish,
    call_mark_started,
    calls_close_stale,
)
from calls.services.transcript import transcript_entry_add
from calls.services.transfer import call_continuation, call_record_control
from calls.telephony import stream_token
from calls.tests.support.frames import (
    rt_input_done,
    rt_speech_started,
    tw_connected,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, of_type, realtime_out, snapshot
from calls.tests.support.twilio_signing import call_params, signed_post
from calls.vocabulary.persona import Persona
from conftest import TEST_PUBLIC_BASE_URL

VOICE = "/twilio/voice/"
STREAM_ENDED = "/twilio/stream-ended/"
DIAL_ACTION = "/twilio/dial-action/"
TRANSFER_TO = "+15550002222"
SID = call_params()["CallSid"]

ClientTA: TypeAdapter[Any] = TypeAdapter(
    Annotated[RealtimeClientEvent, Field(discriminator="type")]
)


def parse(response: Any) -> ET.Element:
    assert response.status_code == 200, response.content
    return ET.fromstring(response.content)


def token_of(root: ET.Element) -> str:
    stream = root.find("Connect/Stream")
    assert stream is not None
    return urlsplit(stream.get("url", "")).path.split("/")[-2]


def claims(token: str, settings: Any) -> stream_token.StreamClaims:
    return stream_token.verify(token, secret=settings.SECRET_KEY, now=time.time())


def dial_params(status: str) -> dict[str, str]:
    return call_params(
        CallStatus="in-progress", DialCallStatus=status, DialCallSid="CA" + "2" * 32
    )


@pytest.fixture
def transferred(client: Any, phone_number: PhoneNumber, settings: Any) -> str:
    """A call whose first stream ran (two turns) and ended in a transfer; the
    first stream's token."""
    first = token_of(parse(signed_post(client, VOICE, call_params())))
    assert call_claim_stream(call_sid=SID) is not None
    call_mark_started(call_sid=SID, stream_sid="MZ" + "1" * 32)
    for seq, role, text in [
        (1, "assistant", "Thanks for calling, how can I help?"),
        (2, "caller", "I need to talk to a person."),
        (3, "system", f"Transferred to {TRANSFER_TO} by ops"),
    ]:
        transcript_entry_add(
            call_sid=SID, seq=seq, role=role, text=text, offset_ms=seq * 1000
        )
    call_record_control(
        call_sid=SID,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to=TRANSFER_TO,
    )
    call_finish(call_sid=SID, end_reason=EndReason.TRANSFERRED)
    return first


# -- the <Connect action> and the <Dial action> -------------------------------


def test_it_gives_the_transfer_dial_a_signed_action(
    client: Any, transferred: str
) -> None:
    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )

    dial = root.find("Dial")
    assert dial is not None and dial.text == TRANSFER_TO
    # Named for the stream that ended in the dial: its outcome counts once.
    assert dial.get("action") == TEST_PUBLIC_BASE_URL + DIAL_ACTION + "?stream=1"
    assert dial.get("method") == "POST"


def test_it_refuses_an_unsigned_dial_action(client: Any, transferred: str) -> None:
    response = client.post(DIAL_ACTION, dial_params("no-answer"))

    assert response.status_code == 403
    assert Call.objects.get().transfer_status == ""


def test_it_hangs_up_after_an_answered_transfer(client: Any, transferred: str) -> None:
    root = parse(signed_post(client, DIAL_ACTION, dial_params("completed")))

    assert [child.tag for child in root] == ["Hangup"]
    call = Call.objects.get()
    assert call.transfer_status == "completed"
    assert call.end_reason == EndReason.TRANSFERRED
    assert call.ended_at is not None
    assert call.streams == 1


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_it_brings_the_caller_back_on_a_new_stream_of_the_call(
    client: Any, transferred: str, settings: Any, status: str
) -> None:
    root = parse(signed_post(client, DIAL_ACTION, dial_params(status)))

    assert [child.tag for child in root] == ["Connect"]
    connect = root.find("Connect")
    assert connect is not None
    assert connect.get("action") == TEST_PUBLIC_BASE_URL + STREAM_ENDED
    token = token_of(root)
    assert token != transferred
    assert (claims(token, settings).call_sid, claims(token, settings).stream) == (
        SID,
        2,
    )
    call = Call.objects.get()
    assert call.transfer_status == status
    assert (call.status, call.ended_at, call.end_reason, call.outcome) == (
        CallStatus.IN_PROGRESS,
        None,
        "",
        "",
    )
    assert call.transfer_to == TRANSFER_TO
    last = TranscriptEntry.objects.order_by("-seq").first()
    assert last is not None
    assert (last.seq, last.role, last.text) == (
        4,
        "system",
        f"Transfer to {TRANSFER_TO}: {status}",
    )


def test_it_claims_each_streams_token_once_and_never_an_older_one(
    client: Any, transferred: str, settings: Any
) -> None:
    second = token_of(parse(signed_post(client, DIAL_ACTION, dial_params("busy"))))
    stream = claims(second, settings).stream

    assert call_claim_stream(call_sid=SID, stream=1) is None  # old token
    assert call_claim_stream(call_sid=SID, stream=stream) is not None
    assert call_claim_stream(call_sid=SID, stream=stream) is None  # reuse
    assert call_claim_stream(call_sid=SID, stream=3) is None  # not minted
    assert Call.objects.get().streams == 2


def test_it_refuses_a_later_streams_token_for_a_call_not_reopened(
    transferred: str,
) -> None:
    # Ended by the transfer and not reopened by a dial action: nothing to claim.
    assert call_claim_stream(call_sid=SID, stream=2) is None
    assert Call.objects.get().streams == 1


def test_it_finishes_a_reopened_call_with_the_last_streams_end(
    client: Any, transferred: str
) -> None:
    started = Call.objects.get().started_at
    signed_post(client, DIAL_ACTION, dial_params("no-answer"))
    call_claim_stream(call_sid=SID, stream=2)
    call_mark_started(call_sid=SID, stream_sid="MZ" + "2" * 32)

    call = call_finish(call_sid=SID, end_reason=EndReason.CALLER_HUNG_UP)

    assert call is not None
    assert call.started_at == started  # the call's start, not the second stream's
    assert call.stream_sid == "MZ" + "2" * 32
    assert (call.end_reason, call.transfer_status, call.streams) == (
        EndReason.CALLER_HUNG_UP,
        "no-answer",
        2,
    )
    assert call.ended_at is not None and call.outcome


# -- what the second stream starts from -----------------------------------------


def test_it_seeds_the_next_stream_with_the_conversation(
    client: Any, transferred: str, phone_number: PhoneNumber
) -> None:
    TransferDestination.objects.create(
        assistant=phone_number.assistant,
        name="reception",
        number=TRANSFER_TO,
        description="The front desk.",
    )
    signed_post(client, DIAL_ACTION, dial_params("no-answer"))
    Call.objects.update(started_at=timezone.now() - dt.timedelta(seconds=30))

    resumed = call_continuation(call_sid=SID, stream=2, reason=TRANSFER_UNANSWERED)

    assert resumed.history == (
        ("assistant", "Thanks for calling, how can I help?"),
        ("caller", "I need to talk to a person."),
    )
    assert resumed.last_seq == 4  # after the dial's system row
    assert 29_000 <= resumed.offset_ms <= 31_000
    assert resumed.note == no_answer_note("reception")
    assert "nobody at reception answered" in resumed.note


def test_it_names_an_unknown_destination_that_line() -> None:
    assert no_answer_note("") == (
        "Sorry, nobody at that line answered. I'm back with you. How else can I help?"
    )


def test_it_rejects_a_token_with_a_bad_stream_number(settings: Any) -> None:
    with pytest.raises(ValueError):
        stream_token.mint(
            call_sid=SID, secret="s", ttl_seconds=60, now=time.time(), stream=0
        )
    token = stream_token.mint(
        call_sid=SID, secret="s", ttl_seconds=60, now=1.0, stream=3
    )
    assert stream_token.verify(token, secret="s", now=2.0).stream == 3


# -- the call state of a continued call (pure) -----------------------------------

RESUMED = Continuation(
    stream=2,
    history=(("assistant", "Hello, ACME."), ("caller", "A person, please.")),
    last_seq=4,
    offset_ms=30_000,
    note=no_answer_note("reception"),
)


def test_it_sends_the_history_then_the_resume_note_instead_of_the_greeting() -> None:
    h = Harness(snapshot(greeting="Thanks for calling!"), continuation=RESUMED)
    h.ready()

    sent = realtime_out(h.log)
    types = [event["type"] for event in sent]
    assert types == [
        "session.update",
        "conversation.item.create",
        "conversation.item.create",
        "response.create",
    ]
    assert [event["item"]["role"] for event in sent[1:3]] == ["assistant", "user"]
    assert sent[1]["item"]["content"] == [
        {"type": "output_text", "text": "Hello, ACME."}
    ]
    assert sent[2]["item"]["content"] == [
        {"type": "input_text", "text": "A person, please."}
    ]
    instructions = sent[3]["response"]["instructions"]
    assert "nobody at reception answered" in instructions
    assert "Thanks for calling!" not in instructions


def test_it_continues_the_calls_seq_and_timeline() -> None:
    h = Harness(snapshot(), continuation=RESUMED)
    h.tw(tw_connected())
    h.tw(tw_start(), at=1_000)
    h.open()
    h.rt(rt_speech_started(audio_start_ms=500), at=2_000)
    rows = of_type(
        h.rt(rt_input_done(transcript="Anyone else?"), at=3_000), SaveTranscript
    )

    assert [(r.seq, r.role, r.text) for r in rows] == [(5, "caller", "Anyone else?")]
    assert rows[0].offset_ms == 30_500
    assert h.state.transcript.offset(4_000) == 33_000


def test_it_greets_as_usual_without_a_note() -> None:
    plain = Continuation(stream=2, history=RESUMED.history, last_seq=4)
    h = Harness(snapshot(greeting="Thanks for calling!"), continuation=plain)
    h.ready()

    sent = realtime_out(h.log)
    assert [e["type"] for e in sent][-1] == "response.create"
    assert "Thanks for calling!" in sent[-1]["response"]["instructions"]
    assert len([e for e in sent if e["type"] == "conversation.item.create"]) == 2


def test_the_history_messages_are_valid_ga_client_events() -> None:
    persona = Persona.from_snapshot(snapshot())
    texts = RealtimeProtocol(persona).history(list(RESUMED.history))
    texts.append(rt_events.history_message("caller", 'Quotes "and" émoji ✓'))

    events = [ClientTA.validate_json(text) for text in texts]

    assert [type(e).__name__ for e in events] == ["ConversationItemCreateEvent"] * 3
    assert [type(e.item).__name__ for e in events] == [
        "RealtimeConversationItemAssistantMessage",
        "RealtimeConversationItemUserMessage",
        "RealtimeConversationItemUserMessage",
    ]
    assert events[0].item.content[0].type == "output_text"
    assert events[2].item.content[0].text == 'Quotes "and" émoji ✓'


def test_gpt_live_gets_the_history_as_silent_context() -> None:
    persona = Persona.from_snapshot(snapshot(engine=OPENAI_LIVE))
    protocol = LiveProtocol(persona)

    (text,) = protocol.history(list(RESUMED.history))
    event = json.loads(text)

    assert event["type"] == "session.thinking.append"
    assert event["content"].endswith("You: Hello, ACME.\nCaller: A person, please.")
    assert protocol.history([]) == []


def test_it_does_not_close_a_reopened_call_as_stale_while_it_reconnects(
    client: Any, transferred: str
) -> None:
    signed_post(client, DIAL_ACTION, dial_params("no-answer"))
    Call.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))

    assert calls_close_stale(dry_run=True) == []
    later = timezone.now() + dt.timedelta(hours=1)
    Call.objects.update(heartbeat_at=later - dt.timedelta(hours=2))
    assert [c.end_reason for c in calls_close_stale(dry_run=True)] == [
        EndReason.NO_STREAM
    ]


def test_the_simulator_finds_the_dial_action() -> None:
    from calls.tooling.simulators.twilio_caller.caller import dial_action_url

    document = (
        '<?xml version="1.0"?><Response><Dial action="https://x/twilio/dial-action/"'
        ' callerId="+15550000001">+15550002222</Dial></Response>'
    )
    assert dial_action_url(document) == "https://x/twilio/dial-action/"
    assert dial_action_url("<Response><Dial>+1555</Dial></Response>") == ""
    assert dial_action_url("not xml") == ""


def test_it_does_not_reopen_a_call_whose_caller_hung_up_during_the_dial(
    client: Any, transferred: str
) -> None:
    params = {**dial_params("no-answer"), "CallStatus": "completed"}

    root = parse(signed_post(client, DIAL_ACTION, params))

    assert [child.tag for child in root] == ["Hangup"]
    call = Call.objects.get()
    assert (call.transfer_status, call.end_reason) == (
        "no-answer",
        EndReason.TRANSFERRED,
    )
    assert call.ended_at is not None


def test_a_busy_transfer_comes_back_saying_the_line_was_busy(
    client: Any, transferred: str, phone_number: PhoneNumber
) -> None:
    signed_post(client, DIAL_ACTION, dial_params("busy"))

    resumed = call_continuation(call_sid=SID, stream=2, reason=TRANSFER_UNANSWERED)

    assert "was busy" in resumed.note and "nobody" not in resumed.note
