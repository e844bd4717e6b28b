"""``manage.py serve_info``: the URLs to open and to paste into Twilio."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command


def serve_info(*args: str) -> str:
    out = io.StringIO()
    call_command("serve_info", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_it_prints_the_public_urls(settings: Any, db: Any) -> None:
    output = serve_info("--port", "9000")

    assert "Admin:      https://voice.example.com/admin/" in output
    assert "Call log:   https://voice.example.com/calls/" in output
    assert "Webhook  https://voice.example.com/twilio/voice/  HTTP POST" in output
    assert "https://voice.example.com/twilio/status/  HTTP POST" in output
    assert "make superuser" in output
    assert "PUBLIC_BASE_URL is not set" not in output


def test_it_falls_back_to_localhost_and_says_what_is_missing(
    settings: Any, db: Any
) -> None:
    settings.PUBLIC_BASE_URL = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.OPENAI_API_KEY = ""

    output = serve_info("--port", "9000")

    assert "http://localhost:9000/admin/" in output
    assert "http://localhost:9000/twilio/voice/" in output
    assert "`ngrok http 9000`" in output
    assert "TWILIO_AUTH_TOKEN is not set" in output
    assert "OPENAI_API_KEY is not set" in output


def test_it_warns_about_a_public_url_twilio_cannot_use(settings: Any, db: Any) -> None:
    settings.PUBLIC_BASE_URL = "http://voice.example.com"
    settings.ALLOWED_HOSTS = ["localhost"]

    output = serve_info()

    assert "is not https" in output
    assert "voice.example.com is not in ALLOWED_HOSTS" in output


def test_it_accepts_a_host_matched_by_a_wildcard(settings: Any, db: Any) -> None:
    settings.ALLOWED_HOSTS = [".example.com"]

    assert "ALLOWED_HOSTS" not in serve_info()


def test_it_lists_every_page_the_engine_and_the_binding(settings: Any, db: Any) -> None:
    settings.OPENAI_REALTIME_URL = "ws://127.0.0.1:8765/v1/realtime"

    output = serve_info("--port", "9000", "--host", "127.0.0.1")

    for path in ("/accounts/login/", "/calls/", "/calls/live/", "/dashboard/"):
        assert f"https://voice.example.com{path}" in output, path
    assert "/admin/" in output and "/healthz" in output
    assert (
        "Realtime simulator (or another local server) at ws://127.0.0.1:8765" in output
    )
    assert "Listening on 127.0.0.1:9000, this machine only" in output
    assert "HOST=0.0.0.0" in output
    settings.OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
    output = serve_info("--host", "0.0.0.0")
    assert "OpenAI Realtime at wss://api.openai.com/v1/realtime" in output
    assert "other machines on the network can reach" in output


def test_it_stops_suggesting_a_login_once_a_superuser_exists(
    db: Any, django_user_model: Any
) -> None:
    assert "make superuser" in serve_info()
    django_user_model.objects.create_superuser("boss", password="x")
    output = serve_info()
    assert "make superuser" not in output
    assert "Log in at https://voice.example.com/accounts/login/" in output


def test_it_says_when_the_channel_layer_is_unreachable(settings: Any, db: Any) -> None:
    # A Redis no one listens on: port 1 refuses at once.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        out = serve_info()
    finally:
        channel_layers.backends.clear()
    assert "! The channel layer (Redis) is unreachable" in out
    assert "staff cannot hang up" in out
