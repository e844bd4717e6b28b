"""The call page's events read in words: a dial's outcome as the facts say it, an
answer cut off by a key press or a transfer says so, a handoff has its event."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from calls.models import CallAssistant
from calls.tests.support.review_helpers import make_call


def test_events_read_in_words_and_a_handoff_has_its_own(
    staff_client: Client, assistant: Any, other_assistant: Any
) -> None:
    call = make_call(
        assistant=assistant,
        transfer_to="+15559876543",
        transfer_status="no-answer",
        handoffs=1,
        entries=[
            {"role": "assistant", "text": "Press 5 for", "interrupted": True},
            {"role": "system", "text": "DTMF 5"},
            {"role": "system", "text": "Transfer to +15559876543: no-answer"},
            {"role": "assistant", "text": "Billing here."},
        ],
    )
    now = timezone.now()
    CallAssistant.objects.create(
        call=call, assistant=assistant, name="Front desk", offset_ms=0, started_at=now
    )
    CallAssistant.objects.create(
        call=call,
        assistant=other_assistant,
        name="Billing",
        offset_ms=6_000,
        started_at=now,
    )
    html = staff_client.get(call.get_absolute_url()).content.decode()
    transcript = html.split('id="transcript"')[1].split("</ol>")[0]
    assert "Transfer to +1555•••6543: no answer" in transcript
    assert "no-answer" not in transcript
    assert "cut off by the caller&#x27;s key press" in transcript
    assert "interrupted by the caller" not in transcript
    handoff = transcript.index("Handed off to Billing")
    assert transcript.index("Transfer to") < handoff < transcript.index("Billing here")
