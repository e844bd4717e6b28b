"""Calls as the pages show them: small frozen view models built from the rows.

``CallRow`` is one call in the call log, on the live page, on a control's
confirmation page and at the top of the call page; ``CallDetail`` adds what only
the call page shows (the error, frame and token counts, the cost's lines). The
templates read these, never attributes added to a ``Call``.

Pure functions of rows already read, except ``call_rows``: one query for the reply
latencies of all its calls together (``selectors.reply_latencies``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from calls import pricing
from calls.models import Call
from calls.privacy.masking import shown_numbers
from calls.review import display, selectors
from calls.review.percentiles import percentile
from calls.review.tool_rows import dial_label, was_transferred
from calls.review.transfer_numbers import rule_for


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call: its facts with their labels, numbers as the viewer may see them,
    its engine, p50 reply latency, length and estimated cost."""

    call_sid: str
    url: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    is_live: bool
    status: str
    status_label: str
    outcome: str
    outcome_label: str
    direction_label: str
    end_reason_label: str
    shown_from: str
    shown_to: str
    assistant_id: int | None
    assistant_name: str
    engine: str
    engine_label: str
    turns: int
    p50_reply_ms: float | None
    duration_label: str
    cost: pricing.Cost
    cost_label: str
    was_transferred: bool
    shown_transfer_to: str
    transfer_status: str
    transfer_label: str
    handoffs: int
    streams: int


@dataclass(frozen=True, slots=True)
class CostLineRow:
    """One line of the call page's cost table."""

    label: str
    tokens: int
    price: str
    usd: str


@dataclass(frozen=True, slots=True)
class CallDetail:
    """What the call page shows beyond the call's ``CallRow``."""

    error: str
    bad_frames: int
    usage: Mapping[str, int]  # ``calls.vocabulary.usage.USAGE_FIELDS``
    total_tokens: int  # input and output
    billed_by_time: bool
    cost_lines: tuple[CostLineRow, ...]


def format_duration(seconds: float | None) -> str:
    """``95`` -> ``"1:35"``, an hour or more as ``"1:00:05"``; "" for None."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def duration_label(call: Call, *, now: dt.datetime) -> str:
    """The call's length; a live call's so far (from its stream's start)."""
    if call.duration_seconds is None and call.is_live:
        since = call.started_at or call.created_at
        return format_duration((now - since).total_seconds())
    return format_duration(call.duration_seconds)


def call_row(
    call: Call,
    *,
    turns: int,
    reply_latencies: Sequence[int],
    prices: pricing.Prices,
    show_numbers: bool,
    now: dt.datetime,
) -> CallRow:
    """``call`` as the pages show it (cost priced for the call's engine; numbers
    masked unless ``show_numbers``, the transfer destination by the call's
    ``transfer_numbers`` rule)."""
    shown_from, shown_to = shown_numbers(
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        show=show_numbers,
    )
    engine = display.engine_of(call.assistant_snapshot)
    cost = pricing.estimate(display.usage_of(call), prices, engine=engine)
    return CallRow(
        call_sid=call.call_sid,
        url=call.get_absolute_url(),
        created_at=call.created_at,
        started_at=call.started_at,
        ended_at=call.ended_at,
        is_live=call.is_live,
        status=call.status,
        status_label=call.get_status_display(),
        outcome=call.outcome,
        outcome_label=call.get_outcome_display(),
        direction_label=call.get_direction_display(),
        end_reason_label=call.get_end_reason_display(),
        shown_from=shown_from,
        shown_to=shown_to,
        assistant_id=call.assistant_id,
        assistant_name=display.assistant_name(call),
        engine=engine,
        engine_label=display.engine_label(engine),
        turns=turns,
        p50_reply_ms=percentile(reply_latencies, 50),
        duration_label=duration_label(call, now=now),
        cost=cost,
        cost_label=pricing.format_usd(cost.total_usd),
        was_transferred=was_transferred(call),
        shown_transfer_to=rule_for(
            call.assistant_snapshot, show_numbers=show_numbers
        ).number(call.transfer_to),
        transfer_status=call.transfer_status,
        transfer_label=dial_label(call.transfer_status),
        handoffs=call.handoffs,
        streams=call.streams,
    )


def call_rows(
    calls: Iterable[selectors.CallWithTurns],
    *,
    prices: pricing.Prices,
    show_numbers: bool,
    now: dt.datetime,
) -> list[CallRow]:
    """A page of calls (annotated with ``turns``, ``selectors.with_turns``) as rows,
    with one query for their reply latencies."""
    calls = list(calls)
    latencies = selectors.reply_latencies([call.pk for call in calls])
    return [
        call_row(
            call,
            turns=call.turns,
            reply_latencies=latencies.get(call.pk, []),
            prices=prices,
            show_numbers=show_numbers,
            now=now,
        )
        for call in calls
    ]


def call_detail(call: Call, row: CallRow) -> CallDetail:
    """The call page's further facts (``row``: the call's ``CallRow``)."""
    return CallDetail(
        error=call.error,
        bad_frames=call.bad_frames,
        usage=display.usage_of(call),
        total_tokens=call.input_tokens + call.output_tokens,
        billed_by_time=row.cost.by_time,
        cost_lines=tuple(cost_lines(row.cost)),
    )


def cost_lines(cost: pricing.Cost) -> list[CostLineRow]:
    return [
        CostLineRow(
            label=line.label,
            tokens=line.tokens,
            price=pricing.format_line_price(line),
            usd=pricing.format_usd(line.usd),
        )
        for line in cost.lines
    ]
