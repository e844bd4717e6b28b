"""Aggregates for the dashboard: calls per day, answer and failure rates, failures
by reason, latency, tokens, cost, and the engines compared.

Read-only and a fixed number of queries per period (six), whatever the volume:
days are grouped in the database in the viewer's time zone, latency percentiles are
computed in Python from one query (portable across SQLite and PostgreSQL), and usage
sums are priced with ``calls.pricing`` per engine (cost is linear, so summing per
engine then pricing is exact). The engine of a call is its persona snapshot's
``engine`` key (``display.engine_of``: a snapshot without one ran on the default).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate

from calls import pricing
from calls.engines import registry
from calls.models import (
    Call,
    CallOutcome,
    EndReason,
    TranscriptEntry,
    TranscriptRole,
)
from calls.review.display import engine_label
from calls.review.percentiles import percentile
from calls.review.selectors import DEFAULT_ENGINE
from calls.review.timezones import day_bounds
from calls.vocabulary.usage import SESSION_SECONDS_FIELD, USAGE_FIELDS

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
    failed: int = 0


@dataclass(frozen=True)
class FailureDay:
    """One day's failed calls, counted per end reason (``FailureTable.reasons``)."""

    day: dt.date
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class FailureTable:
    """Failed calls per day and end reason: only days and reasons with failures."""

    reasons: tuple[str, ...]  # EndReason values ("" when none was recorded)
    rows: tuple[FailureDay, ...]

    @property
    def labels(self) -> list[str]:
        return [end_reason_label(reason) for reason in self.reasons]

    @property
    def totals(self) -> list[int]:
        return [
            sum(row.counts[i] for row in self.rows) for i in range(len(self.reasons))
        ]


def end_reason_label(reason: str) -> str:
    if reason in EndReason.values:
        return str(EndReason(reason).label)
    return reason or "No reason recorded"


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
    session_seconds: int = 0  # billed seconds, on engines billed by time

    @property
    def cost_label(self) -> str:
        return pricing.format_usd(self.cost.total_usd)


@dataclass(frozen=True)
class EngineFigures:
    """One engine's calls in the period, to compare engines side by side."""

    engine: str
    calls: int
    answered: int
    call_seconds: int  # summed call durations
    cost: pricing.Cost
    p50_ms: float | None  # headline latency: caller stopped -> heard
    p95_ms: float | None
    turns: int

    @property
    def label(self) -> str:
        return engine_label(self.engine)

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    @property
    def cost_per_minute(self) -> float | None:
        """Estimated cost over the calls' minutes (None if none lasted)."""
        if not self.call_seconds:
            return None
        return self.cost.total_usd / (self.call_seconds / 60)

    @property
    def cost_per_minute_label(self) -> str:
        value = self.cost_per_minute
        return pricing.format_usd(value) if value is not None else ""


def answered_q() -> Q:
    """An answered call: the assistant took part and it ended normally."""
    return Q(outcome=CallOutcome.ANSWERED)


def failed_q() -> Q:
    """A failed call: the engine refused or dropped it, or our server did."""
    return Q(outcome=CallOutcome.FAILED)


def _in_period(period: Period) -> Q:
    return Q(created_at__gte=period.start, created_at__lt=period.end)


def calls_per_day(period: Period) -> list[DayCount]:
    rows = (
        Call.objects.filter(_in_period(period))
        .annotate(day=TruncDate("created_at", tzinfo=period.tz))
        .values("day")
        .annotate(
            total=Count("pk"),
            answered=Count("pk", filter=answered_q()),
            failed=Count("pk", filter=failed_q()),
        )
        .order_by("day")
    )
    found = {row["day"]: row for row in rows}
    return [
        DayCount(
            day,
            found.get(day, {}).get("total", 0),
            found.get(day, {}).get("answered", 0),
            found.get(day, {}).get("failed", 0),
        )
        for day in period.days
    ]


def answer_rate(days: list[DayCount]) -> float | None:
    """Answered calls (outcome ``answered`` only) out of all calls."""
    total = sum(day.total for day in days)
    return sum(day.answered for day in days) / total if total else None


def failure_rate(days: list[DayCount]) -> float | None:
    """Failed calls (outcome ``failed``) out of all calls."""
    total = sum(day.total for day in days)
    return sum(day.failed for day in days) / total if total else None


def failures_by_reason(period: Period) -> FailureTable:
    """Failed calls per day and end reason, newest day first, in one query."""
    rows = (
        Call.objects.filter(_in_period(period) & failed_q())
        .annotate(day=TruncDate("created_at", tzinfo=period.tz))
        .values("day", "end_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {}
    for row in rows:
        key = (row["day"], row["end_reason"])
        counts[key] = counts.get(key, 0) + row["n"]
    reasons = tuple(
        sorted(
            {reason for _, reason in counts},
            key=lambda reason: -sum(n for (_, r), n in counts.items() if r == reason),
        )
    )
    days = sorted({day for day, _ in counts}, reverse=True)
    return FailureTable(
        reasons=reasons,
        rows=tuple(
            FailureDay(day, tuple(counts.get((day, r), 0) for r in reasons))
            for day in days
        ),
    )


def latency_by_assistant(period: Period) -> list[AssistantLatency]:
    """The headline latency per assistant: caller stopped -> heard."""
    rows = (
        TranscriptEntry.objects.filter(
            call__created_at__gte=period.start,
            call__created_at__lt=period.end,
            role=TranscriptRole.ASSISTANT,
            heard_latency_ms__isnull=False,
        )
        .order_by()
        .values_list("call__assistant__name", "heard_latency_ms")
    )
    by_name: dict[str, list[int]] = defaultdict(list)
    for name, latency in rows.iterator(chunk_size=5000):
        if latency is not None:  # the query excludes NULL; this tells mypy
            by_name[name or NO_ASSISTANT].append(latency)
    return [
        AssistantLatency(name, percentile(v, 50), percentile(v, 95), len(v))
        for name, v in sorted(by_name.items())
    ]


def _engine_key(value: str | None) -> str:
    # No ``engine`` key: a snapshot from before assistants chose one.
    return value or DEFAULT_ENGINE


def _engine_order(engine: str) -> tuple[int, str]:
    known = list(registry.names())
    return (known.index(engine) if engine in known else len(known), engine)


def _sum_costs(costs: list[pricing.Cost]) -> pricing.Cost:
    """Costs added up line by line (same key: tokens and dollars summed)."""
    lines: dict[str, pricing.CostLine] = {}
    for cost in costs:
        for line in cost.lines:
            old = lines.get(line.key)
            lines[line.key] = (
                line
                if old is None
                else dataclasses.replace(
                    old, tokens=old.tokens + line.tokens, usd=old.usd + line.usd
                )
            )
    return pricing.Cost(
        lines=tuple(lines.values()), total_usd=sum(c.total_usd for c in costs)
    )


def usage_by_assistant(period: Period, prices: pricing.Prices) -> list[AssistantUsage]:
    """Usage and cost per assistant; each engine's calls priced as that engine."""
    rows = (
        Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(engine=KeyTextTransform("engine", "assistant_snapshot"))
        .values("assistant__name", "engine")
        .annotate(calls=Count("pk"), **{name: Sum(name) for name in USAGE_FIELDS})
        .order_by("assistant__name")
    )
    by_name: dict[str, list[tuple[int, dict[str, int], pricing.Cost]]] = {}
    for row in rows:
        tokens = {name: row[name] or 0 for name in USAGE_FIELDS}
        cost = pricing.estimate(tokens, prices, engine=_engine_key(row["engine"]))
        name = row["assistant__name"] or NO_ASSISTANT
        by_name.setdefault(name, []).append((row["calls"], tokens, cost))
    return [
        AssistantUsage(
            name=name,
            calls=sum(calls for calls, _, _ in groups),
            input_tokens=sum(tokens["input_tokens"] for _, tokens, _ in groups),
            output_tokens=sum(tokens["output_tokens"] for _, tokens, _ in groups),
            cost=_sum_costs([cost for _, _, cost in groups]),
            session_seconds=sum(t[SESSION_SECONDS_FIELD] for _, t, _ in groups),
        )
        for name, groups in by_name.items()
    ]


def engines_compared(period: Period, prices: pricing.Prices) -> list[EngineFigures]:
    """Per engine that ran calls in the period: calls, answer rate, cost per minute
    and the headline latency's p50/p95. Two queries. Calls no assistant took (no
    snapshot) ran on no engine and are left out."""
    ran = Q(created_at__gte=period.start, created_at__lt=period.end) & ~Q(
        assistant_snapshot={}
    )
    rows = (
        Call.objects.filter(ran)
        .annotate(engine=KeyTextTransform("engine", "assistant_snapshot"))
        .values("engine")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=answered_q()),
            call_seconds=Sum("duration_seconds"),
            **{name: Sum(name) for name in USAGE_FIELDS},
        )
        .order_by()
    )
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        # Missing keys and the default's name group apart in SQL: merge them.
        total = totals[_engine_key(row["engine"])]
        for name in ("calls", "answered", "call_seconds", *USAGE_FIELDS):
            total[name] += row[name] or 0
    latencies = (
        TranscriptEntry.objects.filter(
            call__created_at__gte=period.start,
            call__created_at__lt=period.end,
            role=TranscriptRole.ASSISTANT,
            heard_latency_ms__isnull=False,
        )
        .exclude(call__assistant_snapshot={})
        .annotate(engine=KeyTextTransform("engine", "call__assistant_snapshot"))
        .order_by()
        .values_list("engine", "heard_latency_ms")
    )
    by_engine: dict[str, list[int]] = defaultdict(list)
    for engine, latency in latencies.iterator(chunk_size=5000):
        if latency is not None:  # the query excludes NULL; this tells mypy
            by_engine[_engine_key(engine)].append(latency)
    figures = []
    for engine in sorted(totals, key=_engine_order):
        total = totals[engine]
        heard = by_engine.get(engine, [])
        usage = {name: total[name] for name in USAGE_FIELDS}
        figures.append(
            EngineFigures(
                engine=engine,
                calls=total["calls"],
                answered=total["answered"],
                call_seconds=total["call_seconds"],
                cost=pricing.estimate(usage, prices, engine=engine),
                p50_ms=percentile(heard, 50),
                p95_ms=percentile(heard, 95),
                turns=len(heard),
            )
        )
    return figures
