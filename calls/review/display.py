"""Display figures for calls: shown numbers, latency, cost and the persona's name.

Pure decoration of rows already read: the only database access is the one query
for a page's reply latencies (``selectors.reply_latencies``).
"""

from __future__ import annotations

from collections.abc import Iterable

from calls import pricing
from calls.models import Call, TranscriptEntry
from calls.review import selectors
from calls.review.masking import shown_numbers
from calls.review.percentiles import percentile
from calls.usage import USAGE_FIELDS


def decorate(
    calls: Iterable[Call], *, prices: pricing.Prices, show_numbers: bool
) -> list[Call]:
    """Add display figures to each call: shown numbers, p50 latency, cost.

    One query for the reply latencies of all the given calls together.
    """
    calls = list(calls)
    latencies = selectors.reply_latencies([call.pk for call in calls])
    for call in calls:
        call.shown_from, call.shown_to = shown_numbers(
            direction=call.direction,
            from_number=call.from_number,
            to_number=call.to_number,
            show=show_numbers,
        )
        call.p50_reply_ms = percentile(latencies.get(call.pk, []), 50)
        call.cost = pricing.estimate(usage_of(call), prices)
        call.assistant_name = assistant_name(call)
    return calls


def usage_of(call: Call) -> dict[str, int]:
    return {name: getattr(call, name) for name in USAGE_FIELDS}


def assistant_name(call: Call) -> str:
    """The persona's name as it was on the call, else the assistant's today."""
    name = (call.assistant_snapshot or {}).get("name")
    if name:
        return str(name)
    return call.assistant.name if call.assistant_id and call.assistant else ""


def latency_summary(entries: Iterable[TranscriptEntry]) -> dict[str, float | None]:
    """p50/p95 of reply and heard latency over a call's assistant turns."""
    reply = [e.reply_latency_ms for e in entries if e.reply_latency_ms is not None]
    heard = [e.heard_latency_ms for e in entries if e.heard_latency_ms is not None]
    return {
        "reply_p50": percentile(reply, 50),
        "reply_p95": percentile(reply, 95),
        "heard_p50": percentile(heard, 50),
        "heard_p95": percentile(heard, 95),
        "reply_count": len(reply),
    }
