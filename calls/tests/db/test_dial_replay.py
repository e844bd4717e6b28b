"""A transfer's ``<Dial action>`` is accepted once, for the dial the call waits on.

Twilio's signatures carry no timestamp, so a signed action can be posted again
later; it must not reopen a call that ended, nor answer a later transfer's dial.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from assistants.models import PhoneNumber
from calls.models import Call, CallStatus, EndReason, TranscriptEntry
from calls.services.lifecycle import call_claim_stream, call_finish, call_mark_started
from calls.services.transfer import call_record_control
from calls.tests.support.twilio_signing import call_params, signed_post

VOICE = "/twilio/voice/"
STREAM_ENDED = "/twilio/stream-ended/"
DIAL_ACTION = "/twilio/dial-action/"
TRANSFER_TO = "+15550002222"
SID = call_params()["CallSid"]

pytestmark = pytest.mark.django_db


def parse(response: Any) -> ET.Element:
    assert response.status_code == 200, response.content
    return ET.fromstring(response.content)


def dial_params(status: str, *, caller: str = "in-progress") -> dict[str, str]:
    return call_params(
        CallStatus=caller, DialCallStatus=status, DialCallSid="CA" + "2" * 32
    )


def transfer(stream: int) -> None:
    """Stream number ``stream`` of the call runs and ends in a transfer."""
    assert call_claim_stream(call_sid=SID, stream=stream) is not None
    call_mark_started(call_sid=SID, stream_sid="MZ" + str(stream) * 32)
    call_record_control(
        call_sid=SID,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to=TRANSFER_TO,
        stream=stream,
    )
    call_finish(call_sid=SID, end_reason=EndReason.TRANSFERRED, stream=stream)


def dial_action_path(client: Any) -> str:
    """The ``<Dial action>`` the stream-ended answer gives Twilio, as a path."""
    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )
    dial = root.find("Dial")
    assert dial is not None
    action = dial.get("action", "")
    assert action.startswith("https://voice.example.com/")
    return action.removeprefix("https://voice.example.com")


@pytest.fixture
def transferred(client: Any, phone_number: PhoneNumber) -> None:
    signed_post(client, VOICE, call_params())
    transfer(1)


def test_a_replayed_dial_action_does_not_reopen_a_call_that_ended(
    client: Any, transferred: None
) -> None:
    action = dial_action_path(client)
    parse(signed_post(client, action, dial_params("completed")))
    signed_post(
        client,
        "/twilio/status/",
        call_params(CallStatus="completed", CallDuration="42"),
    )
    rows = TranscriptEntry.objects.count()

    root = parse(signed_post(client, action, dial_params("no-answer")))

    assert [child.tag for child in root] == ["Hangup"]
    call = Call.objects.get()
    assert (call.status, call.end_reason, call.transfer_status, call.streams) == (
        CallStatus.COMPLETED,
        EndReason.TRANSFERRED,
        "completed",
        1,
    )
    assert call.ended_at is not None and call.duration_seconds == 42
    assert TranscriptEntry.objects.count() == rows


def test_the_same_dial_outcome_twice_reopens_the_call_once(
    client: Any, transferred: None
) -> None:
    action = dial_action_path(client)
    first = parse(signed_post(client, action, dial_params("busy")))
    assert [child.tag for child in first] == ["Connect"]
    call_claim_stream(call_sid=SID, stream=2)
    call_mark_started(call_sid=SID, stream_sid="MZ" + "2" * 32)
    call_finish(call_sid=SID, end_reason=EndReason.CALLER_HUNG_UP, stream=2)

    again = parse(signed_post(client, action, dial_params("busy")))

    assert [child.tag for child in again] == ["Hangup"]
    call = Call.objects.get()
    assert (call.end_reason, call.streams, call.ended_at is not None) == (
        EndReason.CALLER_HUNG_UP,
        2,
        True,
    )
    systems = TranscriptEntry.objects.filter(role="system").count()
    assert systems == 1  # one "Transfer to …: busy" row


def test_an_earlier_dials_action_does_not_answer_a_later_transfer(
    client: Any, transferred: None
) -> None:
    first_action = dial_action_path(client)
    parse(signed_post(client, first_action, dial_params("no-answer")))
    transfer(2)
    second_action = dial_action_path(client)
    assert second_action != first_action

    replayed = parse(signed_post(client, first_action, dial_params("no-answer")))

    assert [child.tag for child in replayed] == ["Hangup"]
    call = Call.objects.get()
    assert (call.streams, call.transfer_status, call.end_reason) == (
        2,
        "",
        EndReason.TRANSFERRED,
    )
    # The dial it waits on is still answered.
    answered = parse(signed_post(client, second_action, dial_params("no-answer")))
    assert [child.tag for child in answered] == ["Connect"]
    assert Call.objects.get().transfer_status == "no-answer"
