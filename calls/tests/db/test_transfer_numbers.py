"""Transfer numbers follow one rule wherever they appear (the call page's rows and
facts, the call log's badge, the persona panel, the JSON and CSV exports):
redacted on a call whose persona redacts phone numbers, else masked for viewers
who may not see numbers."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from assistants.models import TransferDestination
from calls.models import EndReason
from calls.review.transfer_numbers import NumberRule
from calls.tests.support.review_helpers import make_call

NUMBER = "+19005550123"
MASKED = "+1900•••0123"


@pytest.fixture
def numbers_client(db: Any, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("numbers", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_call", "view_caller_number", "export_call"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def transferred_call(assistant: Any, *, redact: bool) -> Any:
    if redact:
        assistant.redact = ["phone_number"]
        assistant.save()
    TransferDestination.objects.create(
        assistant=assistant, name="Premium desk", number=NUMBER, position=0
    )
    # The first row as the recorder writes it (redacted when the persona asks);
    # the dial's row as the dial action writes it, number in full.
    first = "Transferred to [phone number] by alice" if redact else None
    return make_call(
        assistant=assistant,
        end_reason=EndReason.TRANSFERRED,
        transfer_to=NUMBER,
        transfer_status="no-answer",
        streams=2,
        entries=[
            {"role": "caller", "text": "Put me through, please."},
            {"role": "system", "text": first or f"Transferred to {NUMBER} by alice"},
            {"role": "system", "text": f"Transfer to {NUMBER}: no-answer"},
        ],
    )


def everything(client: Client, call: Any) -> str:
    """The call page, the call log and both exports of ``call``, as one text."""
    base = f"/calls/{call.call_sid}/"
    pages = [base, "/calls/", base + "transcript.json", base + "transcript.csv"]
    return "\n".join(client.get(url).content.decode() for url in pages)


def test_a_call_that_redacts_numbers_shows_no_transfer_number_to_anyone(
    staff_client: Client, numbers_client: Client, assistant: Any
) -> None:
    call = transferred_call(assistant, redact=True)
    for client in (staff_client, numbers_client):
        shown = everything(client, call)
        assert NUMBER not in shown and MASKED not in shown
        assert "Transfer to [phone number]: no answer" in shown
        assert '<span class="number">[phone number]</span>' in shown  # facts, badge
        assert '"transfer_to": "[phone number]"' in shown  # the JSON export
        assert '"number": "[phone number]"' in shown  # its persona


def test_transfer_numbers_are_masked_for_viewers_who_may_not_see_numbers(
    staff_client: Client, numbers_client: Client, assistant: Any
) -> None:
    call = transferred_call(assistant, redact=False)
    masked = everything(staff_client, call)
    assert NUMBER not in masked
    assert f"Transferred to {MASKED} by alice" in masked  # page and exports
    assert f'"number": "{MASKED}"' in masked  # the JSON export's persona
    assert f"Transfers to Premium desk ({MASKED})" in masked  # the persona panel
    full = everything(numbers_client, call)
    assert f"Transferred to {NUMBER} by alice" in full
    assert f'"transfer_to": "{NUMBER}"' in full


def test_the_rule_finds_each_number_in_a_sentence() -> None:
    masked = NumberRule(show=False, redact=False)
    assert masked.text("Transferred to +15551234567 by +15550001111") == (
        "Transferred to +1555•••4567 by +1555•••1111"
    )
    assert masked.text("DTMF 5") == "DTMF 5"
    assert NumberRule(show=True, redact=True).number("+15551234567") == (
        "[phone number]"
    )
    assert NumberRule(show=True, redact=False).text("to +15551234567") == (
        "to +15551234567"
    )
    assert masked.number("") == ""
