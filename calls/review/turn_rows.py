"""A call's transcript and handlers as the call page shows them: small frozen view
models built from the rows (no queries; the templates escape what they hold).

A turn (caller, assistant, system event) is a ``TurnRow``; a tool the assistant
called is a ``ToolRow`` (its arguments and output indented when they are JSON);
each assistant that handled the call is a ``SpanRow``.

System rows are stored as the call wrote them, Twilio's values included
("Transfer to +1555...: no-answer"); they are shown in words, with
their numbers by the call's ``NumberRule``. A handoff, recorded as the call's
assistant spans rather than as a row, is shown as an event where it happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from calls.models import CallAssistant, TranscriptEntry, TranscriptRole
from calls.review.call_rows import format_duration
from calls.review.display import TurnLatency, turn_latency
from calls.review.tool_rows import dial_label, pretty_json
from calls.review.transfer_numbers import NumberRule

# Until a call's rule is known, numbers are masked.
MASKED = NumberRule(show=False, redact=False)
DIAL_ROW = re.compile(r"(Transfer to .*): ([a-z-]+)")
# What cut an interrupted assistant turn off, by the system row that follows it
# (its start); otherwise the caller spoke over it.
CUT_OFF_BY = (
    ("DTMF ", "cut off by the caller's key press"),
    ("Transferred to ", "cut off by the transfer"),
    ("Hung up by ", "cut off by the hang-up"),
)
INTERRUPTED = "interrupted by the caller"


@dataclass(frozen=True, slots=True)
class TurnRow:
    seq: int
    role: str
    text: str
    interrupted: bool
    failed: bool
    offset_ms: int
    offset_label: str  # from the start of the stream
    latency: TurnLatency | None
    interrupted_label: str = INTERRUPTED  # what cut the turn off


@dataclass(frozen=True, slots=True)
class ToolRow:
    seq: int
    tool_name: str
    tool_status: str
    duration_ms: int | None
    offset_label: str
    arguments_shown: str
    output_shown: str  # the output, or the error
    role: str = TranscriptRole.TOOL.value


@dataclass(frozen=True, slots=True)
class SpanRow:
    name: str
    offset_label: str  # from the start of the first stream


def offset_label(offset_ms: int) -> str:
    return format_duration(offset_ms / 1000)


def system_text(text: str, numbers: NumberRule) -> str:
    """A system row's stored text as staff read it."""
    if dial := DIAL_ROW.fullmatch(text):
        text = f"{dial.group(1)}: {dial_label(dial.group(2))}"
    return numbers.text(text)


def transcript_row(
    entry: TranscriptEntry, numbers: NumberRule = MASKED, *, cut_off_by: str = ""
) -> TurnRow | ToolRow:
    """One row; ``cut_off_by``: the text of the system row after it, if any."""
    if entry.role == TranscriptRole.TOOL:
        return ToolRow(
            seq=entry.seq,
            tool_name=entry.tool_name,
            tool_status=entry.tool_status,
            duration_ms=entry.duration_ms,
            offset_label=offset_label(entry.offset_ms),
            arguments_shown=pretty_json(entry.tool_arguments),
            output_shown=pretty_json(entry.text),
        )
    text = entry.text
    if entry.role == TranscriptRole.SYSTEM:
        text = system_text(text, numbers)
    return TurnRow(
        seq=entry.seq,
        role=entry.role,
        text=text,
        interrupted=entry.interrupted,
        failed=entry.failed,
        offset_ms=entry.offset_ms,
        offset_label=offset_label(entry.offset_ms),
        latency=turn_latency(entry),
        interrupted_label=interrupted_label(cut_off_by),
    )


def interrupted_label(next_system_text: str) -> str:
    for start, label in CUT_OFF_BY:
        if next_system_text.startswith(start):
            return label
    return INTERRUPTED


def transcript_rows(
    entries: Iterable[TranscriptEntry],
    numbers: NumberRule = MASKED,
    spans: Sequence[CallAssistant] = (),
) -> list[TurnRow | ToolRow]:
    """The call page's rows in order, with a handoff event where each assistant
    after the first took over (``spans``, in the order they did)."""
    entries = list(entries)
    rows: list[TurnRow | ToolRow] = []
    for i, entry in enumerate(entries):
        following = entries[i + 1] if i + 1 < len(entries) else None
        cut_off_by = ""
        if following is not None and following.role == TranscriptRole.SYSTEM:
            cut_off_by = following.text
        rows.append(transcript_row(entry, numbers, cut_off_by=cut_off_by))
    return with_handoffs(rows, entries, spans)


def with_handoffs(
    rows: list[TurnRow | ToolRow],
    entries: Sequence[TranscriptEntry],
    spans: Sequence[CallAssistant],
) -> list[TurnRow | ToolRow]:
    """``rows`` with a system event before the first row at or after the offset
    where each handed-to assistant took over."""
    out = list(rows)
    for span in reversed(list(spans)[1:]):
        place = next(
            (i for i, e in enumerate(entries) if e.offset_ms >= span.offset_ms),
            len(entries),
        )
        event = TurnRow(
            seq=-1,  # no stored row: never one the live page updates
            role=TranscriptRole.SYSTEM.value,
            text=f"Handed off to {span.name}",
            interrupted=False,
            failed=False,
            offset_ms=span.offset_ms,
            offset_label=offset_label(span.offset_ms),
            latency=None,
        )
        out.insert(place, event)
    return out


def span_rows(spans: Iterable[CallAssistant]) -> list[SpanRow]:
    return [
        SpanRow(name=span.name, offset_label=offset_label(span.offset_ms))
        for span in spans
    ]
