"""Calls with their transcripts as plain data, JSON and CSV.

Shared by the transcript downloads on the call page and ``manage.py export_calls``,
so both give the same data. Output is streamed: calls are read with ``iterator()``
and their entries and assistant spans prefetched one chunk at a time (three queries
per chunk, never one per call), and JSON/CSV text is yielded piece by piece.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from calls import pricing
from calls.models import Call, CallAssistant, TranscriptEntry, TranscriptRole
from calls.privacy.masking import shown_numbers
from calls.review.display import (
    assistant_name,
    engine_latency,
    engine_of,
    latency_summary,
    usage_of,
)
from calls.review.recording_player import recording_data
from calls.review.tool_rows import spans_data
from calls.review.transfer_numbers import NumberRule, rule_for
from calls.runtime.bus.live_events import entry_payload
from calls.vocabulary.usage import USAGE_FIELDS

CHUNK_SIZE = 200
CALL_COLUMNS = (
    "call_sid",
    "outcome",
    "status",
    "direction",
    "from",
    "to",
    "assistant",
    "engine",
    "created_at",
    "started_at",
    "ended_at",
    "duration_seconds",
    "end_reason",
    *USAGE_FIELDS,
    "estimated_cost_usd",
    # Reply latency is what the caller waited (as on every page: their last
    # words to the first assistant audio they heard); "sent" is our part of it
    # (to the first audio sent to Twilio).
    "reply_p50_ms",
    "reply_p95_ms",
    "sent_p50_ms",
    "sent_p95_ms",
)
ENTRY_COLUMNS = (
    "seq",
    "role",
    "text",
    "interrupted",
    "failed",
    "offset_ms",
    "item_id",
    "reply_latency_ms",
    "heard_latency_ms",
    "engine_latency_ms",
)
# Appended after the columns above so that existing readers keep their positions:
# a tool row's fields (empty on other rows), then the call's transfer and handoffs.
TOOL_COLUMNS = ("tool_name", "tool_arguments", "tool_status", "duration_ms")
TRANSFER_COLUMNS = ("transfer_to", "transfer_status", "streams", "handoffs")
# A cell starting with one of these is a formula to a spreadsheet; transcript text
# comes from callers, so it is defused with a leading apostrophe (CSV only).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_queryset(
    *, call_sid: str | None = None, since: dt.datetime | None = None
) -> QuerySet[Call]:
    """Calls to export, oldest first, with what ``call_to_dict`` reads."""
    queryset = Call.objects.select_related("assistant", "recording").order_by(
        "created_at", "pk"
    )
    if call_sid:
        queryset = queryset.filter(call_sid=call_sid)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.prefetch_related(
        Prefetch(
            "transcript_entries",
            queryset=TranscriptEntry.objects.order_by("seq"),
        ),
        Prefetch(
            "assistant_spans",
            queryset=CallAssistant.objects.order_by("offset_ms", "pk"),
        ),
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def call_to_dict(
    call: Call,
    entries: Iterable[TranscriptEntry],
    *,
    prices: pricing.Prices,
    show_numbers: bool = True,
    spans: Iterable[CallAssistant] | None = None,
) -> dict[str, Any]:
    """One call as JSON-ready data (numbers masked unless ``show_numbers``).

    ``spans``: which assistants handled the call; read from the call when not
    given (``export_queryset`` prefetches them).
    """
    entries = list(entries)
    if spans is None:
        spans = call.assistant_spans.order_by("offset_ms", "pk")
    shown_from, shown_to = shown_numbers(
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        show=show_numbers,
    )
    usage = usage_of(call)
    engine = engine_of(call.assistant_snapshot)
    cost = pricing.estimate(usage, prices, engine=engine)
    latency = latency_summary(entries)
    numbers = rule_for(call.assistant_snapshot, show_numbers=show_numbers)
    return {
        "call_sid": call.call_sid,
        "outcome": call.outcome,
        "status": call.status,
        "direction": call.direction,
        "from": shown_from,
        "to": shown_to,
        "assistant": assistant_name(call),
        "engine": engine,
        "persona": _persona(call.assistant_snapshot, numbers),
        "created_at": _iso(call.created_at),
        "started_at": _iso(call.started_at),
        "ended_at": _iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "end_reason": call.end_reason,
        "error": call.error,
        "bad_frames": call.bad_frames,
        "transcript": [_entry_dict(entry, numbers) for entry in entries],
        "turns": [
            {
                "seq": entry.seq,
                "item_id": entry.item_id,
                "reply_latency_ms": entry.reply_latency_ms,
                "heard_latency_ms": entry.heard_latency_ms,
                "engine_latency_ms": engine_latency(entry),
            }
            for entry in entries
            if entry.role == TranscriptRole.ASSISTANT
        ],
        "latency": {
            "reply_p50_ms": latency["heard_p50"],
            "reply_p95_ms": latency["heard_p95"],
            "sent_p50_ms": latency["reply_p50"],
            "sent_p95_ms": latency["reply_p95"],
            "engine_p50_ms": latency["engine_p50"],
            "engine_p95_ms": latency["engine_p95"],
        },
        "usage": usage,
        "estimated_cost_usd": round(cost.total_usd, 6),
        "cost_breakdown": {line.key: _cost_line_dict(line) for line in cost.lines},
        # A third party's number: by the call's transfer_numbers rule.
        "transfer_to": numbers.number(call.transfer_to),
        "transfer_status": call.transfer_status,
        "streams": call.streams,
        "handoffs": call.handoffs,
        "assistants": spans_data(spans),
        # The recording's link (the authenticated player view), or None.
        "recording": recording_data(call),
    }


def _cost_line_dict(line: pricing.CostLine) -> dict[str, Any]:
    if line.key == "session":  # an engine billed by time: seconds, per minute
        return {
            "seconds": line.tokens,
            "price_per_minute": line.price_per_m,
            "usd": round(line.usd, 6),
        }
    return {
        "tokens": line.tokens,
        "price_per_m": line.price_per_m,
        "usd": round(line.usd, 6),
    }


def _entry_dict(entry: TranscriptEntry, numbers: NumberRule) -> dict[str, Any]:
    # What live viewers get for a turn, plus the Realtime item it came from; a
    # system row's numbers (a transfer's destination) by the call's rule.
    data = {**entry_payload(entry), "item_id": entry.item_id}
    if entry.role == TranscriptRole.SYSTEM:
        data["text"] = numbers.text(entry.text)
    return data


def _persona(snapshot: object, numbers: NumberRule) -> object:
    """The persona snapshot, its transfer destinations' numbers by the rule."""
    if not snapshot or not isinstance(snapshot, dict):
        return {}
    tools = snapshot.get("tools")
    if not isinstance(tools, dict) or not isinstance(tools.get("transfer"), list):
        return snapshot
    transfer = [
        {**target, "number": numbers.number(str(target.get("number") or ""))}
        if isinstance(target, dict)
        else target
        for target in tools["transfer"]
    ]
    return {**snapshot, "tools": {**tools, "transfer": transfer}}


def iter_call_dicts(
    queryset: QuerySet[Call],
    *,
    prices: pricing.Prices,
    show_numbers: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[dict[str, Any]]:
    """Each call of ``export_queryset(...)`` as a dict, ``chunk_size`` at a time."""
    for call in queryset.iterator(chunk_size=chunk_size):
        # .all() reads what export_queryset prefetched, in its Prefetch's order.
        entries = call.transcript_entries.all()
        spans = call.assistant_spans.all()
        yield call_to_dict(
            call, entries, prices=prices, show_numbers=show_numbers, spans=spans
        )


def iter_json(calls: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON list, one call per chunk of text."""
    yield "["
    separator = "\n"
    for call in calls:
        yield separator + json.dumps(call, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def iter_csv(calls: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One row per transcript entry, with the call's columns repeated on each.

    A call without entries still gets one row (entry columns empty).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(row: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(CALL_COLUMNS + ENTRY_COLUMNS + TOOL_COLUMNS + TRANSFER_COLUMNS)
    for call in calls:
        flat = {
            **call,
            **call["usage"],
            "reply_p50_ms": call["latency"]["reply_p50_ms"],
            "reply_p95_ms": call["latency"]["reply_p95_ms"],
            "sent_p50_ms": call["latency"]["sent_p50_ms"],
            "sent_p95_ms": call["latency"]["sent_p95_ms"],
        }
        head = [_cell(flat[column]) for column in CALL_COLUMNS]
        tail = [_cell(flat.get(column)) for column in TRANSFER_COLUMNS]
        for entry in call["transcript"] or [{}]:
            cells = [_cell(entry.get(c)) for c in ENTRY_COLUMNS + TOOL_COLUMNS]
            yield line(head + cells + tail)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # Phone numbers start with "+" and are data, not formulas: keep them.
        if value[1:].replace("•", "").isdigit():
            return value
        return "'" + value
    return value
