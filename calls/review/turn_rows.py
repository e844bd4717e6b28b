"""A call's transcript and handlers as the call page shows them: small frozen view
models built from the rows (no queries; the templates escape what they hold).

A turn (caller, assistant, system event) is a ``TurnRow``; a tool the assistant
called is a ``ToolRow`` (its arguments and output indented when they are JSON);
each assistant that handled the call is a ``SpanRow``.

System rows are stored as the call wrote them; they are shown with their numbers
by the call's ``NumberRule``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from calls.models import CallAssistant, TranscriptEntry, TranscriptRole
from calls.review.call_rows import format_duration
from calls.review.display import TurnLatency, turn_latency
from calls.review.tool_rows import pretty_json
from calls.review.transfer_numbers import NumberRule

# Until a call's rule is known, numbers are masked.
MASKED = NumberRule(show=False, redact=False)


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
    return numbers.text(text)


def transcript_row(
    entry: TranscriptEntry, numbers: NumberRule = MASKED
) -> TurnRow | ToolRow:
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
    )


def transcript_rows(
    entries: Iterable[TranscriptEntry], numbers: NumberRule = MASKED
) -> list[TurnRow | ToolRow]:
    return [transcript_row(entry, numbers) for entry in entries]


def span_rows(spans: Iterable[CallAssistant]) -> list[SpanRow]:
    return [
        SpanRow(name=span.name, offset_label=offset_label(span.offset_ms))
        for span in spans
    ]
