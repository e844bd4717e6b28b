"""System checks for deployment settings the calls app depends on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=False)
def check_public_base_url(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Without PUBLIC_BASE_URL, Twilio signatures are checked over the Host header."""
    if settings.DEBUG or settings.PUBLIC_BASE_URL:
        return []
    return [
        Warning(
            "PUBLIC_BASE_URL is not set, so Twilio signatures are checked against "
            "whatever Host header a request arrives with (only ALLOWED_HOSTS "
            "limits it).",
            hint="Set PUBLIC_BASE_URL to the https origin configured in Twilio, "
            "e.g. https://voice.example.com.",
            id="calls.W001",
        )
    ]
