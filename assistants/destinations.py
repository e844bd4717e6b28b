"""The deployment's outbound policy for webhook tools, from its settings."""

from __future__ import annotations

from django.conf import settings

from calls.egress.addresses import Destinations


def webhook_destinations() -> Destinations:
    """Public addresses, plus what ``WEBHOOK_ALLOW_INTERNAL`` lists (validated
    at start by a system check, so the entries parse here)."""
    return Destinations.from_entries(tuple(settings.WEBHOOK_ALLOW_INTERNAL))
