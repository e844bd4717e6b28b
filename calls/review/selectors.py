"""Read queries for the staff pages, the live view and the exports.

Every list here is built with a fixed number of queries, however long the page: the
turn count is a correlated subquery, the page's reply latencies come from one query
over its calls' entries (medians in Python, portable across SQLite and PostgreSQL),
and the cost is computed from the token columns by ``calls.pricing``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from calls import pricing
from calls.models import (
    Call,
    CallDirection,
    CallStatus,
    TranscriptEntry,
    TranscriptRole,
    mask_number,
)
from calls.review.live_events import call_payload, entry_payload
from calls.usage import USAGE_FIELDS

LIVE_STATUSES = (CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
TURN_ROLES = (TranscriptRole.CALLER, TranscriptRole.ASSISTANT)
LIVE_LIMIT = 100


@dataclass(frozen=True)
class CallFilters:
    """The call log's filters, already validated (see ``views.CallFilterForm``)."""

    assistant_id: int | None = None
    number: str = ""
    status: str = ""
    direction: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""


def live_q() -> Q:
    """Calls still going: not ended and in a pre-final status."""
    return Q(ended_at__isnull=True, status__in=LIVE_STATUSES)


def can_see_numbers(user: Any) -> bool:
    """Whether ``user`` sees callers' numbers in full (may query permissions)."""
    if not getattr(settings, "CALLS_MASK_NUMBERS", True):
        return True
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.has_perm("calls.view_caller_number"))


def shown_numbers(
    *, direction: str, from_number: str, to_number: str, show: bool
) -> tuple[str, str]:
    """(from, to) as a viewer may see them: the other party's number is masked."""
    if show:
        return from_number, to_number
    if direction == CallDirection.INBOUND:
        return mask_number(from_number), to_number
    return from_number, mask_number(to_number)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def day_bounds(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight at the start of ``day`` in ``tz`` (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def filter_calls(
    queryset: QuerySet[Call], filters: CallFilters, tz: dt.tzinfo
) -> QuerySet[Call]:
    """Apply the call log filters; dates are whole days in the viewer's ``tz``."""
    if filters.assistant_id:
        queryset = queryset.filter(assistant_id=filters.assistant_id)
    if filters.number:
        number = "".join(ch for ch in filters.number if ch not in " -().")
        queryset = queryset.filter(
            Q(from_number__icontains=number) | Q(to_number__icontains=number)
        )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.direction:
        queryset = queryset.filter(direction=filters.direction)
    if filters.date_from:
        queryset = queryset.filter(created_at__gte=day_bounds(filters.date_from, tz))
    if filters.date_to:
        end = day_bounds(filters.date_to + dt.timedelta(days=1), tz)
        queryset = queryset.filter(created_at__lt=end)
    if filters.q:
        # EXISTS keeps one row per call; a join on the entries would repeat calls.
        said = TranscriptEntry.objects.filter(
            call=OuterRef("pk"), text__icontains=filters.q
        )
        queryset = queryset.filter(
            Q(call_sid__icontains=filters.q)
            | Q(from_number__icontains=filters.q)
            | Q(to_number__icontains=filters.q)
            | Exists(said)
        )
    return queryset


def with_turns(queryset: QuerySet[Call]) -> QuerySet[Call]:
    """Annotate ``turns``: caller and assistant entries (per returned row only)."""
    turns = (
        TranscriptEntry.objects.filter(call=OuterRef("pk"), role__in=TURN_ROLES)
        .order_by()
        .values("call")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        turns=Coalesce(Subquery(turns, output_field=IntegerField()), Value(0))
    )


def call_log(filters: CallFilters, tz: dt.tzinfo) -> tuple[QuerySet, QuerySet]:
    """(calls in progress, finished calls newest first), both filtered."""
    base = filter_calls(
        Call.objects.select_related("assistant").order_by("-created_at", "-pk"),
        filters,
        tz,
    )
    return with_turns(base.filter(live_q())), with_turns(base.exclude(live_q()))


def decorate(
    calls: Iterable[Call], *, prices: pricing.Prices, show_numbers: bool
) -> list[Call]:
    """Add display figures to each call: shown numbers, p50 latency, cost.

    One query for the reply latencies of all the given calls together.
    """
    calls = list(calls)
    latencies: dict[int, list[int]] = defaultdict(list)
    if calls:
        rows = TranscriptEntry.objects.filter(
            call_id__in=[call.pk for call in calls],
            role=TranscriptRole.ASSISTANT,
            reply_latency_ms__isnull=False,
        )
        # No ORDER BY: the default ordering would join the calls table for nothing.
        rows = rows.order_by().values_list("call_id", "reply_latency_ms")
        for call_id, latency in rows:
            latencies[call_id].append(latency)
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


def call_with_entries(call_sid: str) -> tuple[Call, list[TranscriptEntry]] | None:
    call = (
        Call.objects.select_related("assistant", "phone_number")
        .filter(call_sid=call_sid)
        .first()
    )
    if call is None:
        return None
    return call, list(call.transcript_entries.order_by("seq"))


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


def live_call_payloads() -> list[dict[str, Any]]:
    """Calls in progress as live-event payloads (numbers unmasked), newest first."""
    calls = Call.objects.filter(live_q()).order_by("-created_at")[:LIVE_LIMIT]
    return [call_payload(call) for call in calls]


def call_transcript_payload(call_sid: str) -> dict[str, Any] | None:
    """One call and its entries so far, as live-event payloads; None if unknown."""
    found = call_with_entries(call_sid)
    if found is None:
        return None
    call, entries = found
    return {
        "call": call_payload(call),
        "entries": [entry_payload(entry) for entry in entries],
    }
