"""Test helpers: requests signed exactly as Twilio signs them.

Signatures come from the ``twilio`` library's own ``RequestValidator.compute_signature``
over the public URL, so a passing test means real Twilio requests pass too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from conftest import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL


def twilio_signature(
    url: str, params: dict[str, str], token: str = TEST_AUTH_TOKEN
) -> str:
    signature: str = RequestValidator(token).compute_signature(url, params)
    return signature


def call_params(**overrides: str) -> dict[str, str]:
    """A voice webhook's parameters for a new inbound call."""
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + "1" * 32,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": "+15557654321",
        "To": "+15550000001",
    }
    params.update(overrides)
    return params


def signed_post(
    client: Any, path: str, params: dict[str, str], *, url: str | None = None
) -> Any:
    """POST ``params`` to ``path``, signed over ``url`` (default: the public URL)."""
    signature = twilio_signature(url or TEST_PUBLIC_BASE_URL + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def signed_get(client: Any, path: str, params: dict[str, str]) -> Any:
    """GET with ``params`` in the query string; Twilio signs the full URL."""
    full_path = f"{path}?{urlencode(params)}"
    signature = twilio_signature(TEST_PUBLIC_BASE_URL + full_path, {})
    return client.get(full_path, HTTP_X_TWILIO_SIGNATURE=signature)
