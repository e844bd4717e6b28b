"""Signed Twilio webhooks with values no database column can hold: a 4xx or a
named refusal, never a 500 (PostgreSQL refuses NUL in text and integers past
int32; a duration column holds no negative number)."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, CallStatus
from calls.tests.support.twilio_signing import call_params, signed_post

STATUS = "/twilio/status/"
VOICE = "/twilio/voice/"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("duration", ["-5", "2147483648", "9" * 30])
def test_a_status_callback_with_an_impossible_duration_ends_the_call_without_it(
    client: Any, phone_number: Any, duration: str, caplog: Any
) -> None:
    signed_post(client, VOICE, call_params())

    response = signed_post(
        client, STATUS, call_params(CallStatus="completed", CallDuration=duration)
    )

    assert response.status_code == 204
    call = Call.objects.get()
    assert call.status == CallStatus.COMPLETED
    assert call.duration_seconds is not None
    assert 0 <= call.duration_seconds < 60  # measured here, not the value sent
    assert "CallDuration" in caplog.text


def test_a_status_callback_keeps_a_possible_duration(
    client: Any, phone_number: Any
) -> None:
    signed_post(client, VOICE, call_params())

    signed_post(
        client, STATUS, call_params(CallStatus="completed", CallDuration="2147483647")
    )

    assert Call.objects.get().duration_seconds == 2147483647


@pytest.mark.parametrize("field", ["From", "To"])
def test_a_voice_webhook_with_a_nul_in_a_number_is_refused_by_name(
    client: Any, phone_number: Any, field: str
) -> None:
    number = call_params()[field]

    response = signed_post(client, VOICE, call_params(**{field: number + "\x00"}))

    assert response.status_code == 400
    assert field in response.content.decode()
    assert "NUL" in response.content.decode()
    assert not Call.objects.exists()


def test_a_nul_in_any_webhook_parameter_is_refused(
    client: Any, phone_number: Any
) -> None:
    signed_post(client, VOICE, call_params())

    response = signed_post(
        client, STATUS, call_params(CallStatus="completed", AnsweredBy="human\x00")
    )

    assert response.status_code == 400
    assert "AnsweredBy" in response.content.decode()
    assert Call.objects.get().status == CallStatus.RINGING
