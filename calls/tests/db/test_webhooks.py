"""The voice webhook, the status callback and the stream-ended action, over HTTP."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from calls.models import Call, CallStatus, EndReason
from calls.telephony import stream_token
from calls.telephony.twiml import NOT_IN_SERVICE_MESSAGE
from calls.tests.support.twilio_signing import (
    call_params,
    signed_get,
    signed_post,
    twilio_signature,
)
from calls.tests.support.twiml import STREAM_ENDED, VOICE, parse, verbs
from conftest import TEST_PUBLIC_BASE_URL

STATUS = "/twilio/status/"


UNKNOWN_SID = "CA" + "a0" * 16


def find(root: ET.Element, path: str) -> ET.Element:
    element = root.find(path)
    assert element is not None, f"no {path} in the TwiML"
    return element


def claims_from(root: ET.Element, settings: Any) -> stream_token.StreamClaims:
    url = find(root, "Connect/Stream").get("url", "")
    token = urlsplit(url).path.split("/")[-2]
    return stream_token.verify(token, secret=settings.SECRET_KEY, now=time.time())


def assistant_id_from(root: ET.Element, settings: Any) -> int | None:
    """The assistant the stream will serve: the token binds only the CallSid, and
    the call row routed for that CallSid records the assistant."""
    call_sid = claims_from(root, settings).call_sid
    return Call.objects.get(call_sid=call_sid).assistant_id


@pytest.fixture
def second_number(other_assistant: Assistant) -> PhoneNumber:
    return PhoneNumber.objects.create(number="+15550000002", assistant=other_assistant)


def test_it_connects_a_call_to_its_numbers_assistant(
    client: Any, phone_number: PhoneNumber, settings: Any
) -> None:
    root = parse(signed_post(client, VOICE, call_params()))

    assert verbs(root) == ["Connect"]
    connect = find(root, "Connect")
    assert connect.get("action") == TEST_PUBLIC_BASE_URL + STREAM_ENDED
    url = find(connect, "Stream").get("url", "")
    assert url.startswith("wss://voice.example.com/twilio/media-stream/")
    assert url.endswith("/")
    assert "?" not in url
    claims = claims_from(root, settings)
    assert claims.call_sid == call_params()["CallSid"]
    assert assistant_id_from(root, settings) == phone_number.assistant_id
    call = Call.objects.get()
    assert call.status == CallStatus.RINGING
    assert call.from_number == "+15557654321"
    assert call.assistant_snapshot["name"] == "Front desk"


def test_it_routes_two_numbers_to_two_assistants(
    client: Any, phone_number: PhoneNumber, second_number: PhoneNumber, settings: Any
) -> None:
    second_number.assistant.pre_connect_message = "This call may be recorded."
    second_number.assistant.save()

    first = parse(signed_post(client, VOICE, call_params(CallSid="CA" + "01" * 16)))
    second = parse(
        signed_post(
            client, VOICE, call_params(CallSid="CA" + "02" * 16, To="+15550000002")
        )
    )

    assert verbs(first) == ["Connect"]
    assert verbs(second) == ["Say", "Connect"]
    assert find(second, "Say").text == "This call may be recorded."
    assert assistant_id_from(first, settings) == phone_number.assistant_id
    assert assistant_id_from(second, settings) == second_number.assistant_id
    assert claims_from(second, settings).call_sid == "CA" + "02" * 16
    names = dict(Call.objects.values_list("call_sid", "assistant__name"))
    assert names == {"CA" + "01" * 16: "Front desk", "CA" + "02" * 16: "After hours"}


def test_it_answers_a_get_webhook(client: Any, phone_number: PhoneNumber) -> None:
    root = parse(signed_get(client, VOICE, call_params()))

    assert verbs(root) == ["Connect"]
    assert Call.objects.filter(call_sid=call_params()["CallSid"]).exists()


def test_it_refuses_an_unknown_number(client: Any, phone_number: PhoneNumber) -> None:
    root = parse(signed_post(client, VOICE, call_params(To="+15559999999")))

    assert verbs(root) == ["Say", "Hangup"]
    assert find(root, "Say").text == NOT_IN_SERVICE_MESSAGE
    call = Call.objects.get()
    assert call.status == CallStatus.REJECTED
    assert call.end_reason == EndReason.REJECTED
    assert call.assistant is None


def test_it_sends_an_unknown_number_to_the_fallback(
    client: Any, phone_number: PhoneNumber, other_assistant: Assistant, settings: Any
) -> None:
    other_assistant.is_fallback = True
    other_assistant.save()

    root = parse(signed_post(client, VOICE, call_params(To="+15559999999")))

    assert verbs(root) == ["Connect"]
    assert assistant_id_from(root, settings) == other_assistant.pk
    assert Call.objects.get().assistant == other_assistant


@pytest.mark.parametrize("inactive", ["number", "assistant"])
def test_it_refuses_an_inactive_number_or_assistant(
    client: Any, phone_number: PhoneNumber, inactive: str
) -> None:
    target = phone_number if inactive == "number" else phone_number.assistant
    target.is_active = False
    target.save()

    root = parse(signed_post(client, VOICE, call_params()))

    assert verbs(root) == ["Say", "Hangup"]
    assert Call.objects.get().status == CallStatus.REJECTED


def test_it_reuses_the_call_when_twilio_repeats_the_webhook(
    client: Any, phone_number: PhoneNumber
) -> None:
    parse(signed_post(client, VOICE, call_params()))
    root = parse(signed_post(client, VOICE, call_params()))

    assert verbs(root) == ["Connect"]
    assert Call.objects.count() == 1


def test_it_refuses_a_webhook_without_call_sid(
    client: Any, phone_number: PhoneNumber
) -> None:
    params = call_params()
    del params["CallSid"]

    response = signed_post(client, VOICE, params)

    assert response.status_code == 400
    assert Call.objects.count() == 0


def test_it_takes_the_stream_host_from_the_request_without_public_base_url(
    client: Any, phone_number: PhoneNumber, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["tunnel.example.net"]
    params = call_params()
    # Without PUBLIC_BASE_URL the signature is checked against the URL as Django
    # sees it (here plain http, as behind a proxy without X-Forwarded-Proto).
    signature = twilio_signature("http://tunnel.example.net" + VOICE, params)

    response = client.post(
        VOICE, params, HTTP_HOST="tunnel.example.net", HTTP_X_TWILIO_SIGNATURE=signature
    )

    root = parse(response)
    url = find(root, "Connect/Stream").get("url", "")
    assert url.startswith("wss://tunnel.example.net/twilio/media-stream/")
    action = find(root, "Connect").get("action")
    assert action == "http://tunnel.example.net" + STREAM_ENDED


# Signatures


def test_it_refuses_a_request_without_a_signature(
    client: Any, phone_number: PhoneNumber
) -> None:
    response = client.post(VOICE, call_params())

    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_it_refuses_a_tampered_parameter(
    client: Any, phone_number: PhoneNumber
) -> None:
    params = call_params()
    signature = twilio_signature(TEST_PUBLIC_BASE_URL + VOICE, params)
    params["From"] = "+15550001111"

    response = client.post(VOICE, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert Call.objects.count() == 0


@pytest.mark.parametrize(
    "signed_url",
    [
        "http://voice.example.com/twilio/voice/",  # scheme
        "https://voice.example.com/twilio/voice",  # trailing slash
        "https://other.example.com/twilio/voice/",  # host
    ],
)
def test_it_refuses_a_signature_over_another_url(
    client: Any, phone_number: PhoneNumber, signed_url: str
) -> None:
    response = signed_post(client, VOICE, call_params(), url=signed_url)

    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_it_refuses_a_signature_made_with_another_token(
    client: Any, phone_number: PhoneNumber
) -> None:
    params = call_params()
    signature = twilio_signature(TEST_PUBLIC_BASE_URL + VOICE, params, "other-token")

    response = client.post(VOICE, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


@pytest.mark.parametrize("path", [VOICE, STATUS, STREAM_ENDED])
def test_it_answers_503_without_auth_token_when_debug_is_off(
    client: Any, db: Any, settings: Any, path: str, caplog: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    settings.DEBUG = False

    response = client.post(path, call_params())

    assert response.status_code == 503
    assert b"TWILIO_AUTH_TOKEN" in response.content
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert Call.objects.count() == 0


def test_it_accepts_unsigned_requests_without_auth_token_in_debug(
    client: Any, phone_number: PhoneNumber, settings: Any, caplog: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    settings.DEBUG = True

    root = parse(client.post(VOICE, call_params()))

    assert verbs(root) == ["Connect"]
    assert "WITHOUT a signature check" in caplog.text


def test_it_refuses_other_methods(client: Any) -> None:
    assert client.put(VOICE).status_code == 405


# Status callback


def test_it_records_status_callbacks(client: Any, phone_number: PhoneNumber) -> None:
    signed_post(client, VOICE, call_params())
    sid = call_params()["CallSid"]

    answered = signed_post(client, STATUS, call_params(CallStatus="in-progress"))
    completed = signed_post(
        client, STATUS, call_params(CallStatus="completed", CallDuration="42")
    )

    assert answered.status_code == completed.status_code == 204
    call = Call.objects.get(call_sid=sid)
    assert call.status == CallStatus.COMPLETED
    assert call.duration_seconds == 42
    assert call.ended_at is not None


def test_it_ignores_repeated_and_out_of_order_callbacks(
    client: Any, phone_number: PhoneNumber
) -> None:
    signed_post(client, VOICE, call_params())
    signed_post(client, STATUS, call_params(CallStatus="completed", CallDuration="9"))
    ended_at = Call.objects.get().ended_at

    late = signed_post(client, STATUS, call_params(CallStatus="in-progress"))
    again = signed_post(client, STATUS, call_params(CallStatus="completed"))

    assert late.status_code == again.status_code == 204
    call = Call.objects.get()
    assert call.status == CallStatus.COMPLETED
    assert call.ended_at == ended_at
    assert call.duration_seconds == 9


def test_it_records_a_callback_for_an_unknown_call(client: Any, db: Any) -> None:
    response = signed_post(
        client, STATUS, call_params(CallSid=UNKNOWN_SID, CallStatus="no-answer")
    )

    assert response.status_code == 204
    assert Call.objects.get(call_sid=UNKNOWN_SID).status == CallStatus.NO_ANSWER


def test_it_refuses_an_unsigned_status_callback(
    client: Any, phone_number: PhoneNumber
) -> None:
    signed_post(client, VOICE, call_params())

    response = client.post(STATUS, call_params(CallStatus="completed"))

    assert response.status_code == 403
    assert Call.objects.get().status == CallStatus.RINGING


def test_it_tells_live_viewers_about_status_changes(
    client: Any, phone_number: PhoneNumber
) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from calls.runtime.bus.live_events import LIVE_CALLS_GROUP

    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(LIVE_CALLS_GROUP, channel)
    signed_post(client, VOICE, call_params())

    signed_post(client, STATUS, call_params(CallStatus="completed"))

    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "live.call"
    assert message["state"] == "ended"
    assert message["call"]["status"] == "completed"


# Stream ended (<Connect action>)


@pytest.mark.parametrize(
    ("end_reason", "apologises"),
    [
        (EndReason.REALTIME_ERROR, True),
        (EndReason.REALTIME_DISCONNECTED, True),
        (EndReason.SESSION_EXPIRED, True),
        (EndReason.AUTH_FAILED, True),
        (EndReason.SERVER_SHUTDOWN, True),
        ("", True),
        (EndReason.MAX_DURATION, False),
        (EndReason.CALLER_HUNG_UP, False),
        (EndReason.HUNG_UP_BY_STAFF, False),
    ],
)
def test_it_apologises_after_the_stream_only_when_it_failed(
    client: Any, phone_number: PhoneNumber, end_reason: str, apologises: bool
) -> None:
    signed_post(client, VOICE, call_params())
    Call.objects.update(end_reason=end_reason)

    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )

    if apologises:
        assert verbs(root) == ["Say", "Hangup"]
        assert find(root, "Say").text == phone_number.assistant.unavailable_message
    else:
        assert verbs(root) == ["Hangup"]


def test_it_dials_the_transfer_number_with_the_called_number_as_caller_id(
    client: Any, phone_number: PhoneNumber
) -> None:
    signed_post(client, VOICE, call_params())
    Call.objects.update(end_reason=EndReason.TRANSFERRED, transfer_to="+15550002222")

    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )

    assert verbs(root) == ["Dial"]
    dial = find(root, "Dial")
    assert dial.text == "+15550002222"
    assert dial.get("callerId") == phone_number.number


def test_it_hangs_up_a_transferred_call_with_no_number(
    client: Any, phone_number: PhoneNumber
) -> None:
    signed_post(client, VOICE, call_params())
    Call.objects.update(end_reason=EndReason.TRANSFERRED)

    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )

    assert verbs(root) == ["Hangup"]


def test_it_waits_for_an_open_stream_to_record_why_it_ended(
    client: Any, phone_number: PhoneNumber, monkeypatch: Any
) -> None:
    signed_post(client, VOICE, call_params())
    Call.objects.update(stream_claimed_at=timezone.now())
    naps = []

    def consumer_finishes(seconds: float) -> None:
        # Stands in for the consumer's call_finish landing a moment later.
        naps.append(seconds)
        Call.objects.update(end_reason=EndReason.MAX_DURATION)

    monkeypatch.setattr("calls.telephony.webhooks.views.time.sleep", consumer_finishes)

    root = parse(signed_post(client, STREAM_ENDED, call_params()))

    assert verbs(root) == ["Hangup"]
    assert len(naps) == 1


def test_it_apologises_when_an_open_stream_never_says_why_it_ended(
    client: Any, phone_number: PhoneNumber, monkeypatch: Any
) -> None:
    from calls.telephony.webhooks import views as webhooks

    signed_post(client, VOICE, call_params())
    Call.objects.update(stream_claimed_at=timezone.now())
    monkeypatch.setattr(webhooks, "END_REASON_WAIT_SECONDS", 0.01)
    monkeypatch.setattr(webhooks, "END_REASON_POLL_SECONDS", 0.001)

    root = parse(signed_post(client, STREAM_ENDED, call_params()))

    assert verbs(root) == ["Say", "Hangup"]


def test_it_apologises_for_a_call_it_does_not_know(client: Any, db: Any) -> None:
    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallSid="CA" + "0b" * 16))
    )

    assert verbs(root) == ["Say", "Hangup"]
    assert Call.objects.count() == 0


def test_it_refuses_an_unsigned_stream_ended_request(client: Any, db: Any) -> None:
    assert client.post(STREAM_ENDED, call_params()).status_code == 403
