"""Hang up / Transfer pages: permission, confirmation, POST, errors, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from calls.models import Call
from calls.runtime.bus import control
from calls.tests.support.review_helpers import make_call


@pytest.fixture(autouse=True)
def any_transfer_number(settings: Any) -> None:
    """These tests are about the control protocol; which numbers staff may
    transfer to (``calls.services.transfer_policy``) is tested on its own."""
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555"]


@pytest.fixture
def controller(db: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("controller", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["control_call", "view_call", "view_live_call"]
        )
    )
    return user


@pytest.fixture
def control_client(controller: Any) -> Client:
    client = Client()
    client.force_login(controller)
    return client


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Stand-ins for the control protocol that record what they were asked."""
    calls: list[tuple[Any, ...]] = []

    async def hang_up(call_sid: str, *, requested_by: str) -> control.ControlReply:
        calls.append(("hangup", call_sid, requested_by))
        return control.ControlReply(True, "Hanging up the call.")

    async def transfer(
        call_sid: str, to: str, *, requested_by: str, message: str = ""
    ) -> control.ControlReply:
        calls.append(("transfer", call_sid, to, requested_by, message))
        return control.ControlReply(True, f"Transferring the call to {to}.")

    monkeypatch.setattr(control, "hang_up", hang_up)
    monkeypatch.setattr(control, "transfer", transfer)
    return calls


def urls(call: Call) -> list[str]:
    return [f"/calls/{call.call_sid}/hangup/", f"/calls/{call.call_sid}/transfer/"]


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_it_refuses_staff_without_the_permission(
    staff_client: Client, live_call: Call, asked: list[Any]
) -> None:
    for url in urls(live_call):
        assert staff_client.get(url).status_code == 403, url
        assert staff_client.post(url, {"to": "+15551230000"}).status_code == 403
    assert asked == []


def test_it_lets_non_staff_with_the_permission_control_calls(
    controller: Any, live_call: Call
) -> None:
    controller.is_staff = False
    controller.save()
    client = Client()
    client.force_login(controller)
    for url in urls(live_call):
        assert client.get(url).status_code == 200, url


def test_it_refuses_inactive_users_even_with_the_permission(
    controller: Any, live_call: Call
) -> None:
    client = Client()
    client.force_login(controller)
    controller.is_active = False
    controller.save()
    for url in urls(live_call):
        assert client.get(url).status_code in (302, 403), url


def test_it_sends_anonymous_viewers_to_log_in(client: Client, live_call: Call) -> None:
    response = client.get(urls(live_call)[0])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_answers_404_for_an_unknown_call(control_client: Client) -> None:
    assert control_client.get("/calls/CA404/hangup/").status_code == 404
    assert control_client.post("/calls/CA404/transfer/").status_code == 404


def test_it_confirms_a_hang_up_with_the_masked_caller(
    control_client: Client, live_call: Call
) -> None:
    response = control_client.get(urls(live_call)[0])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hang up this call?" in html
    assert "+1555•••4321" in html and "+15557654321" not in html
    assert "Front desk" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_it_offers_a_transfer_form_with_the_default_message(
    control_client: Client, live_call: Call
) -> None:
    html = control_client.get(urls(live_call)[1]).content.decode()
    assert 'name="to"' in html
    assert 'value="Transferring you now"' in html


def test_it_hangs_up_and_says_so_on_the_call_page(
    control_client: Client, live_call: Call, asked: list[Any]
) -> None:
    response = control_client.post(urls(live_call)[0])
    assert response.status_code == 302
    assert response["Location"] == f"/calls/{live_call.call_sid}/"
    assert asked == [("hangup", live_call.call_sid, "controller")]
    page = control_client.get(response["Location"])
    assert "Hanging up the call." in page.content.decode()


def test_it_transfers_to_a_valid_number(
    control_client: Client, live_call: Call, asked: list[Any]
) -> None:
    response = control_client.post(
        urls(live_call)[1], {"to": "+15551230000", "message": "Hold on"}
    )
    assert response.status_code == 302
    assert asked == [
        ("transfer", live_call.call_sid, "+15551230000", "controller", "Hold on")
    ]
    assert texts(response) == ["Transferring the call to +15551230000."]


def test_it_re_renders_a_bad_number_with_its_error(
    control_client: Client, live_call: Call, asked: list[Any]
) -> None:
    response = control_client.post(urls(live_call)[1], {"to": "555 1234"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the number in E.164 form" in html
    assert 'value="555 1234"' in html
    assert asked == []


def test_it_shows_the_reason_when_no_process_answers(
    control_client: Client, live_call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real protocol on the in-memory layer, with no runner listening.
    monkeypatch.setattr(control, "REPLY_TIMEOUT_SECONDS", 0.1)
    response = control_client.post(urls(live_call)[0])
    assert response.status_code == 302
    [message] = texts(response)
    assert message.startswith("Not done: the call is not live on any server process")


def test_it_explains_that_an_ended_call_cannot_be_controlled(
    control_client: Client, assistant: Any, asked: list[Any]
) -> None:
    ended = make_call(assistant=assistant)
    for url in urls(ended):
        response = control_client.post(url, {"to": "+15551230000"}, follow=True)
        assert response.redirect_chain == [(f"/calls/{ended.call_sid}/", 302)]
        assert "no longer in progress (Caller hung up)" in response.content.decode()
    assert asked == []


def test_it_enforces_csrf(controller: Any, live_call: Call, asked: list[Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(controller)
    assert client.post(urls(live_call)[0]).status_code == 403
    page = client.get(urls(live_call)[0])
    token = page.context["csrf_token"]
    response = client.post(urls(live_call)[0], {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert len(asked) == 1


def test_it_shows_the_buttons_only_to_users_who_may_control(
    control_client: Client, staff_client: Client, live_call: Call, assistant: Any
) -> None:
    ended = make_call(assistant=assistant)
    hangup = f'href="/calls/{live_call.call_sid}/hangup/"'
    for path in ("/calls/", "/calls/live/", f"/calls/{live_call.call_sid}/"):
        assert hangup in control_client.get(path).content.decode(), path
        assert "/hangup/" not in staff_client.get(path).content.decode(), path
    assert (
        "/hangup/" not in control_client.get(ended.get_absolute_url()).content.decode()
    )
    live_page = control_client.get("/calls/live/").content.decode()
    assert 'data-can-control="true"' in live_page
    assert (
        'data-can-control="false"' in staff_client.get("/calls/live/").content.decode()
    )
