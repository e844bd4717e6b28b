"""``manage.py serve_info``: the URLs to open and to paste into Twilio."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command


def serve_info(*args: str) -> str:
    out = io.StringIO()
    call_command("serve_info", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_it_prints_the_public_urls(settings: Any) -> None:
    output = serve_info("--port", "9000")

    assert "Admin:      https://voice.example.com/admin/" in output
    assert "Call log:   https://voice.example.com/calls/" in output
    assert "Webhook  https://voice.example.com/twilio/voice/  HTTP POST" in output
    assert "https://voice.example.com/twilio/status/  HTTP POST" in output
    assert "make superuser" in output
    assert "PUBLIC_BASE_URL is not set" not in output


def test_it_falls_back_to_localhost_and_says_what_is_missing(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.OPENAI_API_KEY = ""

    output = serve_info("--port", "9000")

    assert "http://localhost:9000/admin/" in output
    assert "http://localhost:9000/twilio/voice/" in output
    assert "`ngrok http 9000`" in output
    assert "TWILIO_AUTH_TOKEN is not set" in output
    assert "OPENAI_API_KEY is not set" in output


def test_it_warns_about_a_public_url_twilio_cannot_use(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "http://voice.example.com"
    settings.ALLOWED_HOSTS = ["localhost"]

    output = serve_info()

    assert "is not https" in output
    assert "voice.example.com is not in ALLOWED_HOSTS" in output


def test_it_accepts_a_host_matched_by_a_wildcard(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [".example.com"]

    assert "ALLOWED_HOSTS" not in serve_info()
