"""Signature checks for the media-stream WebSocket upgrade, and stream URLs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from calls.telephony.account.auth import (
    public_url,
    stream_url,
    websocket_request_is_valid,
)
from calls.tests.support.twilio_signing import twilio_signature

PATH = "/twilio/media-stream/abc.def/"


def scope(
    signature: str | None, *, host: str = "voice.example.com", query: bytes = b""
) -> dict[str, Any]:
    headers = [(b"host", host.encode())]
    if signature is not None:
        headers.append((b"x-twilio-signature", signature.encode()))
    return {
        "type": "websocket",
        "path": PATH,
        "query_string": query,
        "headers": headers,
    }


def test_it_accepts_a_signature_over_the_wss_url() -> None:
    signature = twilio_signature("wss://voice.example.com" + PATH, {})

    assert websocket_request_is_valid(scope(signature)) is True


def test_it_refuses_a_signature_over_the_https_url() -> None:
    signature = twilio_signature("https://voice.example.com" + PATH, {})

    assert websocket_request_is_valid(scope(signature)) is False


def test_it_refuses_a_signature_over_another_path() -> None:
    signature = twilio_signature("wss://voice.example.com/twilio/media-stream/x.y/", {})

    assert websocket_request_is_valid(scope(signature)) is False


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_it_refuses_a_missing_or_wrong_signature(signature: str | None) -> None:
    assert websocket_request_is_valid(scope(signature)) is False


def test_it_includes_the_query_string_in_the_signed_url() -> None:
    signature = twilio_signature("wss://voice.example.com" + PATH + "?a=1", {})

    assert websocket_request_is_valid(scope(signature, query=b"a=1")) is True
    assert websocket_request_is_valid(scope(signature)) is False


def test_it_uses_the_host_header_without_public_base_url(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = ""
    signature = twilio_signature("wss://tunnel.example.net" + PATH, {})

    assert websocket_request_is_valid(scope(signature, host="tunnel.example.net"))
    assert not websocket_request_is_valid(scope(signature, host="evil.example.org"))


@pytest.mark.parametrize(("debug", "allowed"), [(True, True), (False, False)])
def test_it_depends_on_debug_without_an_auth_token(
    settings: Any, debug: bool, allowed: bool
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    settings.DEBUG = debug

    assert websocket_request_is_valid(scope(None)) is allowed


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://voice.example.com", "wss://voice.example.com"),
        ("http://localhost:8000", "ws://localhost:8000"),
        ("", "wss://tunnel.example.net"),
    ],
)
def test_it_builds_the_stream_url(settings: Any, base: str, expected: str) -> None:
    settings.PUBLIC_BASE_URL = base
    settings.ALLOWED_HOSTS = ["tunnel.example.net"]
    request = RequestFactory().post("/twilio/voice/", HTTP_HOST="tunnel.example.net")

    assert stream_url(request, "tok.en") == expected + "/twilio/media-stream/tok.en/"


def test_it_builds_public_urls_from_the_configured_origin(settings: Any) -> None:
    request = RequestFactory().get("/twilio/voice/?a=1", HTTP_HOST="internal:8000")

    assert public_url(request) == "https://voice.example.com/twilio/voice/?a=1"
    assert public_url(request, "/x/") == "https://voice.example.com/x/"
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["internal"]
    assert public_url(request) == "http://internal:8000/twilio/voice/?a=1"
