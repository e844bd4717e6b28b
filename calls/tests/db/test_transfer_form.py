"""The transfer page says what happens when the dial is not answered, and
offers the assistant's destinations beside a number typed in."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from assistants.models import TransferDestination
from calls.runtime.bus import control
from calls.tests.support.review_helpers import make_call

NUMBER = "+15557770000"


@pytest.fixture
def control_client(db: Any, django_user_model: Any, settings: Any) -> Client:
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555"]
    user = django_user_model.objects.create_user("controller", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["control_call", "view_call", "view_live_call"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def test_the_transfer_page_offers_the_destinations_and_tells_the_truth(
    control_client: Client, assistant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    TransferDestination.objects.create(
        assistant=assistant, name="reception", number=NUMBER, position=0
    )
    call = make_call(assistant=assistant, live=True)
    asked: list[str] = []

    async def transfer(
        call_sid: str, to: str, *, requested_by: str, message: str = ""
    ) -> control.ControlReply:
        asked.append(to)
        return control.ControlReply(True, "Transferring the call.")

    monkeypatch.setattr(control, "transfer", transfer)
    url = f"/calls/{call.call_sid}/transfer/"
    html = control_client.get(url).content.decode()
    assert "does not take the call back" not in html
    assert "busy, nobody answers or the dial fails, the caller comes back" in html
    assert '<option value="reception">reception</option>' in html
    assert NUMBER not in html  # chosen by name; masked viewers see no number
    assert control_client.post(url, {"destination": "reception"}).status_code == 302
    assert asked == [NUMBER]
    refused = control_client.post(url, {"destination": "", "to": ""})
    assert refused.status_code == 400
    assert "Choose a destination or enter the number" in refused.content.decode()
