"""A database outage while a call comes in: the caller hears the apology TwiML
(the assistant's unavailable message, or the default one when the assistant
cannot be read), not Twilio's generic application error after a 500."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, NoReturn

import pytest
from django.db import OperationalError

from assistants.models import Assistant
from calls.models import Call
from calls.telephony.webhooks import views
from calls.tests.support.twilio_signing import call_params, signed_post

VOICE = "/twilio/voice/"
STREAM_ENDED = "/twilio/stream-ended/"

pytestmark = pytest.mark.django_db


def unreachable(*_: Any, **__: Any) -> NoReturn:
    raise OperationalError("connection to server at 127.0.0.1 port 5432 failed")


def said_then_hung_up(response: Any) -> str:
    """What the TwiML says before its ``<Hangup/>``."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    return root[0].text or ""


def default_message() -> str:
    return str(Assistant._meta.get_field("unavailable_message").default)


def test_the_voice_webhook_apologises_with_the_assistants_message(
    client: Any, phone_number: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    Assistant.objects.filter(pk=phone_number.assistant_id).update(
        unavailable_message="ACME is having trouble. Please call back."
    )
    monkeypatch.setattr(views, "call_route", unreachable)

    response = signed_post(client, VOICE, call_params())

    assert said_then_hung_up(response) == "ACME is having trouble. Please call back."
    assert "database" in caplog.text and "OperationalError" in caplog.text


def test_the_voice_webhook_apologises_by_default_when_nothing_can_be_read(
    client: Any, phone_number: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "call_route", unreachable)
    monkeypatch.setattr(views, "assistant_for_number", unreachable)

    response = signed_post(client, VOICE, call_params())

    assert said_then_hung_up(response) == default_message()


def test_the_stream_ended_action_apologises_by_default(
    client: Any, phone_number: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_post(client, VOICE, call_params())
    monkeypatch.setattr(views, "_ended_call", lambda call_sid: unreachable())

    response = signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))

    assert said_then_hung_up(response) == default_message()
    assert Call.objects.count() == 1
