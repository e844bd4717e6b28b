"""``calls.telephony.account.rest`` against the call simulator's REST stand-in on a
local port.

Nothing reaches Twilio: ``TWILIO_API_BASE_URL`` points at ``TwilioRestApi``, which
records every request it answers, so each test can check the request really
arrived (method, path, form fields, which credential) and what the client made
of the answer.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import VoiceResponse
from websockets.asyncio.server import ServerConnection

from calls.telephony.account import rest
from calls.telephony.account.rest import TwilioRestError
from calls.tests.support.fake_twilio import (
    FakeTwilioServer,
    options,
    running_fake,
)
from calls.tooling.simulators.twilio_caller import (
    Pause,
    TwilioCaller,
    TwilioRestApi,
    new_sid,
)

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "rest-auth-token-0123456789abcdef"
KEY_SID = "SK" + "b2" * 16
KEY_SECRET = "rest-key-secret-fedcba9876543210"


@pytest.fixture
def stand_in(settings: Any) -> Iterator[TwilioRestApi]:
    with TwilioRestApi(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_key_sid=KEY_SID,
        api_key_secret=KEY_SECRET,
    ) as api:
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_API_KEY_SID = ""
        settings.TWILIO_API_KEY_SECRET = ""
        settings.TWILIO_API_BASE_URL = api.base_url
        yield api


@pytest.fixture
def call_sid(stand_in: TwilioRestApi) -> str:
    sid = new_sid("CA")
    stand_in.register(sid, from_number="+15557654321", to_number="+15550000001")
    return sid


def call_path(sid: str) -> str:
    return f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json"


def test_it_hangs_up_a_call_at_the_stand_in(
    stand_in: TwilioRestApi, call_sid: str
) -> None:
    assert rest.hang_up(call_sid=call_sid) == "completed"
    (request,) = stand_in.requests
    assert (request.method, request.path) == ("POST", call_path(call_sid))
    assert request.params == {"Status": "completed"}
    assert stand_in.calls[call_sid].status == "completed"


def test_it_redirects_a_call_with_inline_twiml(
    stand_in: TwilioRestApi, call_sid: str
) -> None:
    twiml = VoiceResponse()
    twiml.say("Transferring you.")
    twiml.dial("+15551112222", caller_id="+15550000001")
    assert rest.redirect(call_sid=call_sid, twiml=str(twiml)) == "in-progress"
    (request,) = stand_in.requests
    assert request.params == {"Twiml": str(twiml)}
    assert stand_in.calls[call_sid].twiml_updates == [str(twiml)]


def test_it_fetches_a_calls_status(stand_in: TwilioRestApi, call_sid: str) -> None:
    assert rest.fetch_status(call_sid=call_sid) == "in-progress"
    stand_in.set_status(call_sid, "completed")
    assert rest.fetch_status(call_sid=call_sid) == "completed"
    assert [(r.method, r.path, r.params) for r in stand_in.requests] == [
        ("GET", call_path(call_sid), {}),
        ("GET", call_path(call_sid), {}),
    ]


def test_it_authenticates_with_the_account_sid_and_auth_token(
    stand_in: TwilioRestApi, call_sid: str
) -> None:
    rest.fetch_status(call_sid=call_sid)
    assert stand_in.requests[0].username == ACCOUNT_SID


def test_it_prefers_an_api_key_pair_when_one_is_set(
    stand_in: TwilioRestApi, call_sid: str, settings: Any
) -> None:
    settings.TWILIO_API_KEY_SID = KEY_SID
    settings.TWILIO_API_KEY_SECRET = KEY_SECRET
    settings.TWILIO_AUTH_TOKEN = "not-used-with-a-key"
    rest.hang_up(call_sid=call_sid)
    (request,) = stand_in.requests
    assert (request.username, request.status) == (KEY_SID, 200)
    # The URL still names the account the key belongs to.
    assert request.path == call_path(call_sid)


def test_it_surfaces_a_wrong_token_as_a_rest_error_without_the_token(
    stand_in: TwilioRestApi, call_sid: str, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong-token-do-not-print-me"
    with pytest.raises(TwilioRestError) as caught:
        rest.hang_up(call_sid=call_sid)
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert call_sid in str(caught.value)
    assert "wrong-token-do-not-print-me" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert [r.status for r in stand_in.requests] == [401]
    assert stand_in.calls[call_sid].status == "in-progress"


def test_it_surfaces_a_wrong_api_key_secret_too(
    stand_in: TwilioRestApi, call_sid: str, settings: Any
) -> None:
    settings.TWILIO_API_KEY_SID = KEY_SID
    settings.TWILIO_API_KEY_SECRET = "not-the-secret"
    with pytest.raises(TwilioRestError) as caught:
        rest.fetch_status(call_sid=call_sid)
    assert caught.value.status == 401
    assert "not-the-secret" not in str(caught.value)


@pytest.mark.parametrize(
    "bad_sid",
    [
        "",
        "CA123",
        "CA" + "g" * 32,
        "CA" + "A" * 32,  # Twilio's hex digits are lowercase
        "PN" + "a" * 32,
        "CA" + "a" * 32 + "/../../Messages",
        "CA" + "a" * 31 + "\n",
    ],
)
def test_it_refuses_a_malformed_call_sid_before_any_request(
    stand_in: TwilioRestApi, bad_sid: str
) -> None:
    actions: list[Callable[[], str]] = [
        lambda: rest.hang_up(call_sid=bad_sid),
        lambda: rest.redirect(call_sid=bad_sid, twiml="<Response/>"),
        lambda: rest.fetch_status(call_sid=bad_sid),
    ]
    for action in actions:
        with pytest.raises(TwilioRestError, match="not a CallSid"):
            action()
    assert stand_in.requests == []


def test_it_accepts_the_call_sids_the_simulators_mint() -> None:
    for _ in range(20):
        rest.check_call_sid(new_sid("CA"))


def test_it_refuses_unusable_twiml_before_any_request(
    stand_in: TwilioRestApi, call_sid: str
) -> None:
    too_long = "<Response><Say>" + "a" * 4000 + "</Say></Response>"
    for twiml, reason in (
        ("", "needs TwiML"),
        (too_long, "over Twilio's 4000"),
        ("<Response><Say>unclosed</Response>", "not well-formed"),
    ):
        with pytest.raises(TwilioRestError, match=reason):
            rest.redirect(call_sid=call_sid, twiml=twiml)
    assert stand_in.requests == []


def test_it_reports_an_unknown_call_as_not_found(stand_in: TwilioRestApi) -> None:
    with pytest.raises(TwilioRestError) as caught:
        rest.fetch_status(call_sid=new_sid("CA"))
    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert "was not found" in str(caught.value)
    assert [r.status for r in stand_in.requests] == [404]


def test_it_reports_an_update_of_an_ended_call(
    stand_in: TwilioRestApi, call_sid: str
) -> None:
    rest.hang_up(call_sid=call_sid)
    with pytest.raises(TwilioRestError) as caught:
        rest.redirect(call_sid=call_sid, twiml="<Response><Hangup/></Response>")
    assert (caught.value.status, caught.value.code) == (400, 21220)


def test_it_needs_credentials_before_any_request(
    stand_in: TwilioRestApi, call_sid: str, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(TwilioRestError, match="TWILIO_AUTH_TOKEN or an API key"):
        rest.hang_up(call_sid=call_sid)
    settings.TWILIO_API_KEY_SID = KEY_SID  # half a key pair
    with pytest.raises(TwilioRestError, match="both TWILIO_API_KEY_SID"):
        rest.hang_up(call_sid=call_sid)
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(TwilioRestError, match="TWILIO_ACCOUNT_SID"):
        rest.hang_up(call_sid=call_sid)
    assert stand_in.requests == []


def test_it_points_the_api_domain_at_the_base_url_even_with_an_edge_set(
    stand_in: TwilioRestApi,
    call_sid: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The library would otherwise rewrite the host to api.sydney.us1.twilio.com.
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    client = rest.client()
    assert client.api.base_url == stand_in.base_url
    assert client.api.absolute_url("2010-04-01/x").startswith(stand_in.base_url)
    assert rest.fetch_status(call_sid=call_sid) == "in-progress"
    assert len(stand_in.requests) == 1


def test_it_defaults_to_twilios_api(settings: Any) -> None:
    settings.TWILIO_API_BASE_URL = ""
    assert rest.client().api.base_url == "https://api.twilio.com"
    settings.TWILIO_API_BASE_URL = "ftp://example.com"
    with pytest.raises(TwilioRestError, match="http"):
        rest.client()


def test_it_reports_an_unreachable_api_without_secrets(
    settings: Any,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(TwilioRestError) as caught:
        rest.hang_up(call_sid=new_sid("CA"))
    message = str(caught.value)
    assert "ConnectionError" in message and f"127.0.0.1:{closed_port}" in message
    assert settings.TWILIO_AUTH_TOKEN not in message
    assert caught.value.status is None


async def test_it_hangs_up_a_live_simulated_call(stand_in: TwilioRestApi) -> None:
    """rest.hang_up during a simulated call: the caller's stream ends like Twilio's."""
    hung_up: list[str] = []

    async def hang_up_over_rest(server: FakeTwilioServer, ws: ServerConnection) -> None:
        start = await server.next_message(ws, "start")
        call_sid = start["start"]["callSid"]
        hung_up.append(await asyncio.to_thread(rest.hang_up, call_sid=call_sid))

    async with running_fake() as fake:
        fake.behaviour = hang_up_over_rest
        caller = options(fake, script=[Pause(5000)], rest_api=stand_in)
        report = await TwilioCaller(caller).run()

    assert hung_up == ["completed"]
    assert report.hung_up_by == "rest" and report.errors == []
    assert len(fake.of("stop")) == 1
    assert "/twilio/stream-ended/" not in [path for path, _, _ in fake.requests]
    assert [r.username for r in stand_in.requests_for(report.call_sid)] == [ACCOUNT_SID]
