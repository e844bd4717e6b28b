"""The engine's usage counters on the call (tokens, session seconds)."""

from __future__ import annotations

from django.db.models import F

from calls.models import Call
from calls.vocabulary.usage import USAGE_FIELDS


def call_add_usage(*, call_sid: str, usage: dict[str, int]) -> None:
    """Add one response's token counts (keys from ``USAGE_FIELDS``) to the call."""
    increments = {
        name: F(name) + int(usage[name]) for name in USAGE_FIELDS if usage.get(name)
    }
    if increments:
        Call.objects.filter(call_sid=call_sid).update(**increments)
