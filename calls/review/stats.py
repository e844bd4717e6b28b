"""Aggregates for the dashboard: calls per day, answer rate, latency, tokens, cost.

Read-only and a fixed number of queries per period (three), whatever the volume:
days are grouped in the database in the viewer's time zone, latency percentiles are
computed in Python from one query (portable across SQLite and PostgreSQL), and token
sums are priced with ``calls.pricing`` (cost is linear, so summing then pricing is
exact).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from calls import pricing
from calls.models import Call, CallStatus, TranscriptEntry, TranscriptRole
from calls.review.percentiles import percentile
from calls.review.timezones import day_bounds
from calls.usage import USAGE_FIELDS

PERIOD_DAYS = (7, 30, 90)
MAX_DAYS = 366
NO_ASSISTANT = "(no assistant)"


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date  # inclusive
    tz: dt.tzinfo

    @property
    def start(self) -> dt.datetime:
        return day_bounds(self.first_day, self.tz)

    @property
    def end(self) -> dt.datetime:
        return day_bounds(self.last_day + dt.timedelta(days=1), self.tz)

    @property
    def days(self) -> list[dt.date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + dt.timedelta(days=n) for n in range(count)]


def period_for(
    *,
    today: dt.date,
    tz: dt.tzinfo,
    days: int = 7,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Period:
    """The last ``days`` days up to ``today``, or the given date range."""
    if date_from or date_to:
        last = date_to or today
        first = date_from or last - dt.timedelta(days=days - 1)
        if first > last:
            first, last = last, first
        # One bar per day: a year is as much as a chart can show.
        first = max(first, last - dt.timedelta(days=MAX_DAYS - 1))
        return Period(first, last, tz)
    return Period(today - dt.timedelta(days=days - 1), today, tz)


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    total: int
    answered: int


@dataclass(frozen=True)
class AssistantLatency:
    name: str
    p50_ms: float | None
    p95_ms: float | None
    turns: int


@dataclass(frozen=True)
class AssistantUsage:
    name: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost: pricing.Cost

    @property
    def cost_label(self) -> str:
        return pricing.format_usd(self.cost.total_usd)


def answered_q() -> Q:
    """An answered call: completed after its media stream started."""
    return Q(status=CallStatus.COMPLETED, started_at__isnull=False)


def calls_per_day(period: Period) -> list[DayCount]:
    rows = (
        Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(day=TruncDate("created_at", tzinfo=period.tz))
        .values("day")
        .annotate(total=Count("pk"), answered=Count("pk", filter=answered_q()))
        .order_by("day")
    )
    found = {row["day"]: row for row in rows}
    return [
        DayCount(
            day,
            found.get(day, {}).get("total", 0),
            found.get(day, {}).get("answered", 0),
        )
        for day in period.days
    ]


def answer_rate(days: list[DayCount]) -> float | None:
    total = sum(day.total for day in days)
    return sum(day.answered for day in days) / total if total else None


def latency_by_assistant(period: Period) -> list[AssistantLatency]:
    rows = (
        TranscriptEntry.objects.filter(
            call__created_at__gte=period.start,
            call__created_at__lt=period.end,
            role=TranscriptRole.ASSISTANT,
            reply_latency_ms__isnull=False,
        )
        .order_by()
        .values_list("call__assistant__name", "reply_latency_ms")
    )
    by_name: dict[str, list[int]] = defaultdict(list)
    for name, latency in rows.iterator(chunk_size=5000):
        if latency is not None:  # the query excludes NULL; this tells mypy
            by_name[name or NO_ASSISTANT].append(latency)
    return [
        AssistantLatency(name, percentile(v, 50), percentile(v, 95), len(v))
        for name, v in sorted(by_name.items())
    ]


def usage_by_assistant(period: Period, prices: pricing.Prices) -> list[AssistantUsage]:
    rows = (
        Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("assistant__name")
        .annotate(calls=Count("pk"), **{name: Sum(name) for name in USAGE_FIELDS})
        .order_by("assistant__name")
    )
    usage = []
    for row in rows:
        tokens = {name: row[name] or 0 for name in USAGE_FIELDS}
        usage.append(
            AssistantUsage(
                name=row["assistant__name"] or NO_ASSISTANT,
                calls=row["calls"],
                input_tokens=tokens["input_tokens"],
                output_tokens=tokens["output_tokens"],
                cost=pricing.estimate(tokens, prices),
            )
        )
    return usage
