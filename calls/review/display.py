"""Display figures for calls: latency, usage, the persona's name and the engine
that ran the call.

Pure functions of rows already read (no queries); the view models that carry
them to the templates are in ``call_rows`` and ``turn_rows``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from calls.engines import registry
from calls.models import Call, TranscriptEntry
from calls.review.percentiles import percentile
from calls.vocabulary.persona import Persona
from calls.vocabulary.usage import USAGE_FIELDS


def engine_of(snapshot: object) -> str:
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


@dataclass(frozen=True, slots=True)
class TurnLatency:
    """A turn's latency as the caller felt it, and the parts that make it up, in
    ms: ``heard`` (the headline: caller stopped -> Twilio confirmed the first
    audio played), ``sent``, and where known ``silence`` (caller stopped -> the
    engine said so: its VAD's wait), ``engine`` (-> its first audio),
    ``playback`` (sent -> confirmed played). None where not known."""

    heard: int | None = None
    sent: int | None = None
    engine: int | None = None
    silence: int | None = None
    playback: int | None = None


class LatencySummary(TypedDict):
    """p50/p95 of a call's assistant turns (ms; None without any), and how many
    turns have a reply latency."""

    reply_p50: float | None
    reply_p95: float | None
    heard_p50: float | None
    heard_p95: float | None
    engine_p50: float | None
    engine_p95: float | None
    reply_count: int


def turn_latency(entry: TranscriptEntry) -> TurnLatency | None:
    """A turn's ``TurnLatency``; None when neither heard nor sent was measured."""
    heard, sent = entry.heard_latency_ms, entry.reply_latency_ms
    if heard is None and sent is None:
        return None
    if sent is None:
        return TurnLatency(heard=heard)
    engine = engine_latency(entry)
    if engine is not None and engine > sent:
        engine = None  # not a share of this turn's latency: left out
    return TurnLatency(
        heard=heard,
        sent=sent,
        engine=engine,
        silence=None if engine is None else sent - engine,
        playback=heard - sent if heard is not None and heard >= sent else None,
    )


def latency_summary(entries: Iterable[TranscriptEntry]) -> LatencySummary:
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
