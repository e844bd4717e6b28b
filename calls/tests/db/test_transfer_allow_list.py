"""Staff transfers go only where the deployment allows: the assistant's configured
destinations, or numbers under ``TRANSFER_ALLOWED_PREFIXES``; a bad prefix stops
the server at start."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from calls.management.commands import calls as calls_command
from calls.models import Call
from calls.runtime.bus import control
from calls.tests.support.review_helpers import make_call
from voiceassistant.checks import check_transfer_prefixes

PREMIUM = "+19005550123"
DESK = "+15550009999"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    numbers: list[str] = []

    async def transfer(
        call_sid: str, to: str, *, requested_by: str, message: str = ""
    ) -> control.ControlReply:
        numbers.append(to)
        return control.ControlReply(True, f"transferring to {to}")

    monkeypatch.setattr(control, "transfer", transfer)
    return numbers


@pytest.fixture
def call_with_desk(assistant: Any) -> Call:
    call = make_call(assistant=assistant, live=True)
    snapshot = dict(call.assistant_snapshot or {})
    snapshot["tools"] = {
        **(snapshot.get("tools") or {}),
        "transfer": [{"name": "desk", "number": DESK}],
    }
    call.assistant_snapshot = snapshot
    call.save(update_fields=["assistant_snapshot"])
    return call


@pytest.fixture
def control_client(db: Any, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("ctl", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["control_call", "view_call"])
    )
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, call: Call, to: str) -> Any:
    return client.post(
        f"/calls/{call.call_sid}/transfer/", {"to": to, "message": "Hold on"}
    )


@pytest.mark.django_db
def test_the_page_refuses_a_number_that_is_not_a_destination(
    control_client: Client, call_with_desk: Call, sent: list[str]
) -> None:
    response = _post(control_client, call_with_desk, PREMIUM)
    assert response.status_code == 400
    assert "not one of this assistant" in response.content.decode()
    assert sent == []


@pytest.mark.django_db
def test_the_page_allows_the_assistants_destination(
    control_client: Client, call_with_desk: Call, sent: list[str]
) -> None:
    assert _post(control_client, call_with_desk, DESK).status_code == 302
    assert sent == [DESK]


@pytest.mark.django_db
def test_the_allow_list_admits_its_prefixes_only(
    control_client: Client, call_with_desk: Call, sent: list[str], settings: Any
) -> None:
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555"]
    assert _post(control_client, call_with_desk, "+15551230000").status_code == 302
    response = _post(control_client, call_with_desk, PREMIUM)
    assert response.status_code == 400
    assert "TRANSFER_ALLOWED_PREFIXES" in response.content.decode()
    assert sent == ["+15551230000"]


@pytest.mark.django_db
def test_the_command_refuses_a_number_that_is_not_allowed(
    call_with_desk: Call, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls_command, "layer_is_in_process", lambda: False)
    with pytest.raises(CommandError, match="not one of this assistant"):
        call_command("calls", "transfer", call_with_desk.call_sid, PREMIUM)
    assert sent == []


def test_a_bad_prefix_is_an_error_at_start(settings: Any) -> None:
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555", "1900", "+44 20"]
    (error,) = check_transfer_prefixes(None)
    assert error.id == "voiceassistant.E003"
    assert "'1900'" in error.msg and "'+44 20'" in error.msg
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555"]
    assert check_transfer_prefixes(None) == []
