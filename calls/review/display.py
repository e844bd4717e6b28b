"""Display figures for calls: shown numbers, latency, cost, the persona's name and
the engine that ran the call.

Pure decoration of rows already read: the only database access is the one query
for a page's reply latencies (``selectors.reply_latencies``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calls import pricing
from calls.engines import registry
from calls.models import Call, TranscriptEntry
from calls.privacy.masking import shown_numbers
from calls.review import selectors
from calls.review.percentiles import percentile
from calls.review.tool_rows import dial_label, shown_transfer_to, was_transferred
from calls.vocabulary.persona import Persona
from calls.vocabulary.usage import USAGE_FIELDS


def decorate(
    calls: Iterable[Call], *, prices: pricing.Prices, show_numbers: bool
) -> list[Any]:
    """Add display figures to each call: shown numbers, p50 latency, cost (priced
    for the call's engine), the engine and its label, and whether it was
    transferred (to where, masked like the other numbers, and how the dial went).

    One query for the reply latencies of all the given calls together. The calls
    come back typed ``Any``: they carry display-only attributes the model lacks.
    """
    decorated: list[Any] = list(calls)
    latencies = selectors.reply_latencies([call.pk for call in decorated])
    for call in decorated:
        call.shown_from, call.shown_to = shown_numbers(
            direction=call.direction,
            from_number=call.from_number,
            to_number=call.to_number,
            show=show_numbers,
        )
        call.p50_reply_ms = percentile(latencies.get(call.pk, []), 50)
        call.engine = engine_of(call.assistant_snapshot)
        call.engine_label = engine_label(call.engine)
        call.cost = pricing.estimate(usage_of(call), prices, engine=call.engine)
        call.assistant_name = assistant_name(call)
        call.was_transferred = was_transferred(call)
        call.shown_transfer_to = shown_transfer_to(call.transfer_to, show=show_numbers)
        call.transfer_label = dial_label(call.transfer_status)
    return decorated


def engine_of(snapshot: Any) -> str:
    """The engine that ran a call, from its persona snapshot; "" when the call has
    none (no assistant took it). Snapshots from before assistants chose an engine
    read as the default (``Persona.engine``)."""
    if not snapshot or not isinstance(snapshot, dict):
        return ""
    return Persona.from_snapshot(snapshot).engine


def engine_label(engine: str) -> str:
    """The engine's name as the assistant form shows it ("OpenAI Realtime (GA)")."""
    return registry.label(engine)


def usage_of(call: Call) -> dict[str, int]:
    return {name: getattr(call, name) for name in USAGE_FIELDS}


def assistant_name(call: Call) -> str:
    """The persona's name as it was on the call, else the assistant's today."""
    name = (call.assistant_snapshot or {}).get("name")
    if name:
        return str(name)
    return call.assistant.name if call.assistant_id and call.assistant else ""


def engine_latency(entry: TranscriptEntry) -> int | None:
    """The engine's share of a turn's latency (its end-of-speech event -> its first
    audio); None where not measured (older rows, or before the field exists)."""
    value = getattr(entry, "engine_latency_ms", None)
    return value if isinstance(value, int) else None


def turn_latency(entry: TranscriptEntry) -> dict[str, int] | None:
    """A turn's latency as the caller felt it, and the parts that make it up:
    ``heard`` (the headline: caller stopped -> Twilio confirmed the first audio
    played), ``sent``, and where known ``silence`` (caller stopped -> the engine
    said so: its VAD's wait), ``engine`` (-> its first audio), ``playback``
    (sent -> confirmed played)."""
    heard, sent = entry.heard_latency_ms, entry.reply_latency_ms
    if heard is None and sent is None:
        return None
    parts: dict[str, int] = {}
    if heard is not None:
        parts["heard"] = heard
    if sent is not None:
        parts["sent"] = sent
        engine = engine_latency(entry)
        if engine is not None and engine <= sent:
            parts["engine"] = engine
            parts["silence"] = sent - engine
        if heard is not None and heard >= sent:
            parts["playback"] = heard - sent
    return parts


def latency_summary(entries: Iterable[TranscriptEntry]) -> dict[str, float | None]:
    """p50/p95 of heard (the headline), reply and engine latency over a call's
    assistant turns."""
    entries = list(entries)
    reply = [e.reply_latency_ms for e in entries if e.reply_latency_ms is not None]
    heard = [e.heard_latency_ms for e in entries if e.heard_latency_ms is not None]
    engine = [ms for e in entries if (ms := engine_latency(e)) is not None]
    return {
        "reply_p50": percentile(reply, 50),
        "reply_p95": percentile(reply, 95),
        "heard_p50": percentile(heard, 50),
        "heard_p95": percentile(heard, 95),
        "engine_p50": percentile(engine, 50),
        "engine_p95": percentile(engine, 95),
        "reply_count": len(reply),
    }
