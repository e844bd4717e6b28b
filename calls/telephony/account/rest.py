"""Twilio's REST API, the only place this project calls it: hang up, redirect, status.

Everything goes through the ``twilio`` helper library's ``Client``, built from the
settings: ``TWILIO_ACCOUNT_SID`` with ``TWILIO_AUTH_TOKEN``, or an API key pair
(``TWILIO_API_KEY_SID`` / ``TWILIO_API_KEY_SECRET``, which wins when both are set
because it can be revoked without rotating the account's token).
``TWILIO_API_BASE_URL`` points the client's Api domain (``api.twilio.com``, where
``/2010-04-01/Accounts/{sid}/Calls/{sid}.json`` lives) at a local stand-in such as
the call simulator's ``rest_api.TwilioRestApi``.

The functions are synchronous (blocking HTTP with a timeout); async code calls them
through ``asyncio.to_thread`` or ``sync_to_async``. Every failure, whether Twilio
refused or could not be reached, is a ``TwilioRestError`` whose message names the
call and Twilio's error code but never a credential or a phone number.

Reference: https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource
"""

from __future__ import annotations

import logging
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
# The library waits forever by default; a hang-up must not hold a worker that long.
TIMEOUT_S = 10.0
# Twilio refuses inline TwiML longer than this (call-control.md section 2).
MAX_TWIML_CHARS = 4000
# Twilio's CallSids, and the simulators' (``webhook.new_sid("CA")`` mints the same
# shape: "CA" + secrets.token_hex(16)), so one pattern serves both.
CALL_SID = re.compile(r"CA[0-9a-f]{32}")


class TwilioRestError(Exception):
    """Twilio refused a request, or could not be reached; safe to log and show."""

    def __init__(
        self, message: str, *, status: int | None = None, code: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status  # HTTP status, None when no answer came
        self.code = code  # Twilio's error code (https://www.twilio.com/docs/errors)


def client() -> Client:
    """A ``Client`` for the configured account, aimed at ``TWILIO_API_BASE_URL``.

    Built per use rather than cached so settings overrides (tests, a changed key)
    take effect at once; the product makes a handful of these calls per call.
    """
    account_sid = settings.TWILIO_ACCOUNT_SID
    if not account_sid:
        raise TwilioRestError("Twilio's REST API needs TWILIO_ACCOUNT_SID")
    key_sid, key_secret = settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET
    if bool(key_sid) != bool(key_secret):
        # Half a key pair is a mistake worth surfacing, not a reason to fall back.
        raise TwilioRestError(
            "set both TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET, or neither"
        )
    if key_sid:
        username, password = key_sid, key_secret
    elif settings.TWILIO_AUTH_TOKEN:
        username, password = account_sid, settings.TWILIO_AUTH_TOKEN
    else:
        raise TwilioRestError(
            "Twilio's REST API needs TWILIO_AUTH_TOKEN or an API key pair"
        )
    base_url = api_base_url()
    rest = Client(
        username,
        password,
        account_sid,
        http_client=TwilioHttpClient(timeout=TIMEOUT_S),
    )
    # Domain.base_url is what every api.twilio.com URI is joined to
    # (twilio/base/domain.py: absolute_url); Client.calls goes through this domain.
    rest.api.base_url = base_url
    if base_url != DEFAULT_API_BASE_URL:
        # TWILIO_EDGE / TWILIO_REGION (read from the environment by the library)
        # rewrite the host name; a stand-in's host must stay as configured.
        rest.edge = None
        rest.region = None
    return rest


def api_base_url() -> str:
    """``TWILIO_API_BASE_URL`` without its trailing slash, checked to be http(s)."""
    base_url = str(settings.TWILIO_API_BASE_URL or DEFAULT_API_BASE_URL).rstrip("/")
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TwilioRestError("TWILIO_API_BASE_URL must be an http(s) origin")
    return base_url


def hang_up(*, call_sid: str) -> str:
    """End a live call (``Status=completed``); returns the status Twilio reports."""
    check_call_sid(call_sid)
    instance = _request("hang up", call_sid, lambda c: c.update(status="completed"))
    status = _status_of(instance, call_sid)
    logger.info("Hung up call %s over REST (now %s)", call_sid, status)
    return status


def redirect(*, call_sid: str, twiml: str) -> str:
    """Make a live call run ``twiml`` next; its media stream ends first.

    Returns the status Twilio reports. Prefer answering the ``<Connect action>``
    request when the call runtime itself closes the stream: no credentials, no race.
    """
    check_call_sid(call_sid)
    _check_twiml(twiml)
    instance = _request("redirect", call_sid, lambda c: c.update(twiml=twiml))
    status = _status_of(instance, call_sid)
    logger.info("Redirected call %s over REST (now %s)", call_sid, status)
    return status


def fetch_status(*, call_sid: str) -> str:
    """The call's status as Twilio sees it, e.g. ``in-progress`` or ``completed``."""
    check_call_sid(call_sid)
    instance = _request("fetch", call_sid, lambda c: c.fetch())
    return _status_of(instance, call_sid)


def check_call_sid(call_sid: str) -> None:
    """Refuse anything but a CallSid, before it is put into a URL."""
    if not isinstance(call_sid, str) or not CALL_SID.fullmatch(call_sid):
        raise TwilioRestError("not a CallSid: expected CA followed by 32 hex digits")


def _check_twiml(twiml: str) -> None:
    if not twiml.strip():
        raise TwilioRestError("redirect needs TwiML")
    if len(twiml) > MAX_TWIML_CHARS:
        raise TwilioRestError(
            f"TwiML of {len(twiml)} characters is over Twilio's {MAX_TWIML_CHARS}"
        )
    try:
        ET.fromstring(twiml)
    except ET.ParseError as exc:
        # Twilio would accept it and then fail the call with an application error.
        raise TwilioRestError(f"TwiML is not well-formed XML: {exc}") from None


def _request(action: str, call_sid: str, send: Callable[[Any], Any]) -> Any:
    """Run ``send(calls(call_sid))``, turning every failure into TwilioRestError.

    Raised ``from None``: a chained library exception would put request URLs and
    Twilio's raw answer into tracebacks and error reports.
    """
    rest = client()
    try:
        return send(rest.calls(call_sid))
    except TwilioRestException as exc:
        message = _scrub(str(exc.msg or ""))
        logger.warning(
            "Twilio refused to %s call %s: HTTP %s, code %s",
            action,
            call_sid,
            exc.status,
            exc.code,
        )
        raise TwilioRestError(
            f"Twilio refused to {action} call {call_sid}: HTTP {exc.status}"
            f" (code {exc.code}): {message}",
            status=exc.status,
            code=exc.code if isinstance(exc.code, int) else None,
        ) from None
    except requests.RequestException as exc:
        # The exception text can carry the full URL with its query; the type and
        # host are enough to act on.
        host = urllib.parse.urlsplit(api_base_url()).netloc
        logger.warning(
            "Could not %s call %s: %s reaching %s",
            action,
            call_sid,
            type(exc).__name__,
            host,
        )
        raise TwilioRestError(
            f"could not {action} call {call_sid}: {type(exc).__name__} reaching {host}"
        ) from None
    except TwilioException as exc:
        raise TwilioRestError(
            f"could not {action} call {call_sid}: {_scrub(str(exc))}"
        ) from None


def _status_of(instance: Any, call_sid: str) -> str:
    status = getattr(instance, "status", None)
    if not status:
        raise TwilioRestError(f"Twilio's answer for call {call_sid} has no status")
    return str(status)


def _scrub(text: str) -> str:
    """``text`` with any configured secret blanked (Twilio never echoes them; a
    stand-in or proxy might)."""
    for secret in (settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_KEY_SECRET):
        if secret:
            text = text.replace(secret, "***")
    return text[:300]
