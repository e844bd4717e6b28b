"""Read queries for the staff pages, the live view and the exports.

Database queries only. Every list here is built with a fixed number of queries,
however long the page: the turn count is a correlated subquery and the page's reply
latencies come from one query over its calls' entries. The pure helpers live apart:
masking in ``calls.privacy.masking``, percentiles in ``percentiles``, display
figures in ``display``, the pages' view models (shown numbers, medians, cost) in
``call_rows`` and ``turn_rows``, day boundaries in ``timezones``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

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
from django.db.models.functions import Coalesce, Right

from calls.models import (
    Call,
    CallAssistant,
    CallDirection,
    CallStatus,
    EndReason,
    TranscriptEntry,
    TranscriptRole,
)
from calls.review.timezones import day_bounds
from calls.runtime.bus.live_events import call_payload, entry_payload
from calls.vocabulary.persona import Persona

LIVE_STATUSES = (CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
TURN_ROLES = (TranscriptRole.CALLER, TranscriptRole.ASSISTANT)
LIVE_LIMIT = 100
# What ``Persona.from_snapshot`` reads for a snapshot without an ``engine`` key.
DEFAULT_ENGINE = Persona().engine


if TYPE_CHECKING:
    # django-stubs-ext is a dev requirement: these types exist for mypy only.
    from django_stubs_ext import WithAnnotations

    class Turns(TypedDict):
        turns: int

    # A Call read through ``with_turns``: it has ``turns``.
    CallWithTurns = WithAnnotations[Call, Turns]


@dataclass(frozen=True)
class CallFilters:
    """The call log's filters, already validated (see ``views.CallFilterForm``)."""

    assistant_id: int | None = None
    number: str = ""
    status: str = ""
    outcome: str = ""
    end_reason: str = ""
    direction: str = ""
    engine: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    transferred: bool = False
    handed_off: bool = False


def engine_q(engine: str) -> Q:
    """Calls run on ``engine`` (their persona snapshot's ``engine``). Snapshots
    without the key read as the default engine (``Persona.from_snapshot``), so
    they match it; calls with no snapshot (no assistant took them) match none."""
    q = Q(assistant_snapshot__engine=engine)
    if engine == DEFAULT_ENGINE:
        q |= Q(assistant_snapshot__engine__isnull=True) & ~Q(assistant_snapshot={})
    return q


def transferred_q() -> Q:
    """Calls that went to a person, as ``tool_rows.was_transferred`` says."""
    return Q(end_reason=EndReason.TRANSFERRED) | ~Q(transfer_to="")


def live_q() -> Q:
    """Calls still going: not ended and in a pre-final status."""
    return Q(ended_at__isnull=True, status__in=LIVE_STATUSES)


def number_q(term: str, *, show_numbers: bool) -> Q:
    """Calls whose numbers contain ``term``, as far as the viewer may see them.

    A viewer who sees numbers masked (``masking.shown_numbers``) sees the other
    party's last four digits only, so only those can match: a hit on hidden
    digits would confirm the full number. Our own number is shown in full.
    Needs ``with_last_digits`` on the queryset.
    """
    if show_numbers:
        return Q(from_number__icontains=term) | Q(to_number__icontains=term)
    inbound = Q(direction=CallDirection.INBOUND)
    return (
        inbound & (Q(to_number__icontains=term) | Q(from_last4__icontains=term))
    ) | (~inbound & (Q(from_number__icontains=term) | Q(to_last4__icontains=term)))


def with_last_digits(queryset: QuerySet[Call]) -> QuerySet[Call]:
    """Annotate the numbers' last four characters (what masking leaves visible)."""
    return queryset.annotate(
        from_last4=Right("from_number", 4), to_last4=Right("to_number", 4)
    )


def filter_calls(
    queryset: QuerySet[Call],
    filters: CallFilters,
    tz: dt.tzinfo,
    *,
    show_numbers: bool = True,
) -> QuerySet[Call]:
    """Apply the call log filters; dates are whole days in the viewer's ``tz``.

    Numbers match only as far as the viewer sees them (``number_q``).
    """
    if not show_numbers and (filters.number or filters.q):
        queryset = with_last_digits(queryset)
    if filters.assistant_id:
        queryset = queryset.filter(assistant_id=filters.assistant_id)
    if filters.number:
        number = "".join(ch for ch in filters.number if ch not in " -().")
        queryset = queryset.filter(number_q(number, show_numbers=show_numbers))
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.outcome:
        queryset = queryset.filter(outcome=filters.outcome)
    if filters.end_reason:
        queryset = queryset.filter(end_reason=filters.end_reason)
    if filters.direction:
        queryset = queryset.filter(direction=filters.direction)
    if filters.engine:
        queryset = queryset.filter(engine_q(filters.engine))
    if filters.transferred:
        queryset = queryset.filter(transferred_q())
    if filters.handed_off:
        queryset = queryset.filter(handoffs__gt=0)
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
            | number_q(filters.q, show_numbers=show_numbers)
            | Exists(said)
        )
    return queryset


def with_turns(queryset: QuerySet[Call]) -> QuerySet[CallWithTurns]:
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


def call_log(
    filters: CallFilters, tz: dt.tzinfo, *, show_numbers: bool = True
) -> tuple[QuerySet[CallWithTurns], QuerySet[CallWithTurns]]:
    """(calls in progress, finished calls newest first), both filtered."""
    base = filter_calls(
        Call.objects.select_related("assistant").order_by("-created_at", "-pk"),
        filters,
        tz,
        show_numbers=show_numbers,
    )
    return with_turns(base.filter(live_q())), with_turns(base.exclude(live_q()))


def reply_latencies(call_ids: Sequence[int]) -> dict[int, list[int]]:
    """The assistant turns' reply latencies of the given calls, in one query:
    what the caller waited (caller stopped -> heard), the figure every page
    shows."""
    latencies: dict[int, list[int]] = defaultdict(list)
    if not call_ids:
        return latencies
    entries = TranscriptEntry.objects.filter(
        call_id__in=list(call_ids),
        role=TranscriptRole.ASSISTANT,
        heard_latency_ms__isnull=False,
    )
    # No ORDER BY: the default ordering would join the calls table for nothing.
    rows = entries.order_by().values_list("call_id", "heard_latency_ms")
    for call_id, latency in rows:
        if latency is not None:  # never, given the filter; narrows the type
            latencies[call_id].append(latency)
    return latencies


def call_with_entries(call_sid: str) -> tuple[Call, list[TranscriptEntry]] | None:
    call = (
        Call.objects.select_related("assistant", "phone_number")
        .filter(call_sid=call_sid)
        .first()
    )
    if call is None:
        return None
    return call, list(call.transcript_entries.order_by("seq"))


def assistant_spans(call: Call) -> list[CallAssistant]:
    """Which assistants handled ``call``, in order (one row, plus one per handoff)."""
    return list(call.assistant_spans.order_by("offset_ms", "pk"))


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
