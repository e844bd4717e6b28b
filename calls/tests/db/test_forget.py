"""Forgetting a caller: manage.py forget_caller and the call admin's action."""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from calls.models import Call, CallDirection, ForgetRequest, Recording, TranscriptEntry
from calls.privacy import forget
from calls.tests.support.retention_helpers import make_call, stored_files

pytestmark = pytest.mark.django_db

CALLER = "+15551234567"
OTHER = "+15559876543"


def forget_cmd(*args: str) -> str:
    out = StringIO()
    call_command("forget_caller", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def calls(storage: Any, phone_number: Any, assistant: Any) -> dict[str, Call]:
    return {
        "inbound": make_call(days_old=3, assistant=assistant, caller=CALLER),
        "outbound": make_call(
            days_old=2,
            assistant=assistant,
            caller=CALLER,
            direction=CallDirection.OUTBOUND_API,
            recording=False,
        ),
        "other": make_call(days_old=1, assistant=assistant, caller=OTHER),
    }


def test_it_forgets_a_caller_with_yes(storage: Any, calls: dict[str, Call]) -> None:
    output = forget_cmd(CALLER, "--yes")

    assert "Forgot +1555•••4567: 2 call(s), 1 recording(s), 4 transcript row(s)" in (
        output
    )
    assert CALLER not in output
    inbound, outbound, other = (Call.objects.get(pk=c.pk) for c in calls.values())
    # Files first, then rows; the other caller's are untouched.
    assert stored_files(storage) == {f"{other.call_sid}.wav"}
    assert list(Recording.objects.values_list("call_id", flat=True)) == [other.pk]
    assert set(TranscriptEntry.objects.values_list("call_id", flat=True)) == {other.pk}
    # The calls stay, without the number.
    assert (inbound.from_number, inbound.to_number) == ("", "+15550000001")
    assert (outbound.from_number, outbound.to_number) == ("+15550000001", "")
    assert other.from_number == OTHER
    assert inbound.recording_purged_at is not None
    assert outbound.recording_purged_at is None  # it had no recording
    assert outbound.transcript_purged_at is not None
    assert inbound.purge_note.startswith("caller's data deleted on request on ")
    assert not Call.objects.filter(from_number=CALLER).exists()


def test_it_writes_a_forget_request(calls: dict[str, Call]) -> None:
    forget_cmd("+1 (555) 123-4567", "--yes")

    request = ForgetRequest.objects.get()
    assert request.number_masked == "+1555•••4567"
    # Keyed: a plain SHA-256 beside the masked number gives the number back.
    assert request.number_hash == forget.number_hash(CALLER)
    assert request.number_hash != hashlib.sha256(CALLER.encode()).hexdigest()
    assert request.requested_by.startswith("manage.py forget_caller (")
    assert (request.calls, request.recordings, request.transcript_entries) == (2, 1, 4)


def test_it_asks_before_deleting(calls: dict[str, Call]) -> None:
    with (
        mock.patch("builtins.input", return_value="no") as asked,
        pytest.raises(CommandError, match="Nothing deleted"),
    ):
        forget_cmd(CALLER)

    asked.assert_called_once()
    assert Recording.objects.count() == 2
    assert ForgetRequest.objects.count() == 0

    with mock.patch("builtins.input", return_value="yes"):
        forget_cmd(CALLER)
    assert Recording.objects.count() == 1


def test_it_refuses_the_deployments_own_number(calls: dict[str, Call]) -> None:
    with pytest.raises(CommandError, match="own numbers"):
        forget_cmd("+15550000001", "--yes")
    assert Recording.objects.count() == 2


def test_it_deletes_nothing_when_a_file_cannot_be_deleted(
    storage: Any, calls: dict[str, Call]
) -> None:
    with (
        mock.patch.object(storage, "delete", side_effect=OSError("read-only")),
        pytest.raises(OSError),
    ):
        forget.caller_forget(number=CALLER, requested_by="test")
    assert TranscriptEntry.objects.count() == 6
    assert ForgetRequest.objects.count() == 0
    assert Call.objects.filter(from_number=CALLER).exists()


def test_it_is_harmless_to_repeat(calls: dict[str, Call]) -> None:
    forget_cmd(CALLER, "--yes")
    output = forget_cmd(CALLER, "--yes")
    # Nothing left to forget: said, and no second request is recorded.
    assert "0 call(s), 0 recording(s), 0 transcript row(s)" in output
    assert "nothing deleted, no request recorded" in output
    assert "Forgot" not in output
    assert ForgetRequest.objects.count() == 1


# -- the admin action


@pytest.fixture
def admin_client(client: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_superuser(
        username="root", password="root-pass-123", email="root@example.com"
    )
    client.force_login(user)
    return client


def action_post(client: Any, call: Call, **extra: str) -> Any:
    return client.post(
        reverse("admin:calls_call_changelist"),
        {"action": "forget_caller", "_selected_action": [call.pk], **extra},
    )


def test_the_admin_action_asks_for_confirmation_first(
    admin_client: Any, calls: dict[str, Call]
) -> None:
    response = action_post(admin_client, calls["inbound"])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Forget this caller?" in page
    assert "+1555•••4567" in page
    assert CALLER not in page
    assert 'name="post" value="yes"' in page
    assert Recording.objects.count() == 2
    assert ForgetRequest.objects.count() == 0


def test_the_admin_action_forgets_after_confirmation(
    storage: Any, admin_client: Any, calls: dict[str, Call]
) -> None:
    response = action_post(admin_client, calls["inbound"], post="yes")

    assert response.status_code == 302
    request = ForgetRequest.objects.get()
    assert request.requested_by == "root"
    assert (request.calls, request.recordings, request.transcript_entries) == (2, 1, 4)
    assert stored_files(storage) == {f"{calls['other'].call_sid}.wav"}
    follow = admin_client.get(response["Location"])
    assert "Forgot +1555•••4567" in follow.content.decode()


def test_the_admin_action_needs_the_delete_permission(
    client: Any, staff_user: Any, calls: dict[str, Call]
) -> None:
    client.force_login(staff_user)
    response = action_post(client, calls["inbound"], post="yes")

    assert ForgetRequest.objects.count() == 0
    assert Recording.objects.count() == 2
    assert response.status_code in (200, 302, 403)


def test_the_forget_requests_are_found_by_number(
    admin_client: Any, calls: dict[str, Call]
) -> None:
    forget_cmd(CALLER, "--yes")
    url = reverse("admin:calls_forgetrequest_changelist")

    found = admin_client.get(url, {"q": "+1 555 123 4567"}).content.decode()
    missed = admin_client.get(url, {"q": OTHER}).content.decode()

    assert "+1555•••4567" in found
    assert "+1555•••4567" not in missed


def test_it_refuses_a_number_not_in_e164_form(calls: dict[str, Call]) -> None:
    with pytest.raises(CommandError, match=r"E\.164"):
        forget_cmd("5551234567", "--yes")
    assert not ForgetRequest.objects.exists()


def test_it_asks_for_yes_when_there_is_no_terminal(
    calls: dict[str, Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(CommandError, match="pass --yes"):
        forget_cmd(CALLER)
    assert not ForgetRequest.objects.exists()


def test_it_refuses_a_caller_on_a_call_now(calls: dict[str, Call]) -> None:
    Call.objects.create(
        call_sid="CA" + "f" * 32,
        from_number=CALLER,
        to_number="+15550000001",
        status="in-progress",
    )
    with pytest.raises(CommandError, match="on a call now"):
        forget_cmd(CALLER, "--yes")
    assert not ForgetRequest.objects.exists()
