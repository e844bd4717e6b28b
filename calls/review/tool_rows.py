"""How the review pages show what an assistant did: tool rows, transfers, handoffs.

Pure display helpers over rows already read (no queries). The templates escape
everything these return; nothing here builds markup. The call page's tool rows are
``turn_rows.ToolRow``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from calls.models import Call, CallAssistant, EndReason
from calls.review.transfer_numbers import NumberRule

# Twilio's DialCallStatus values, as staff read them.
DIAL_LABELS = {
    "completed": "answered, then ended",
    "answered": "answered",
    "busy": "busy",
    "no-answer": "no answer",
    "failed": "failed",
    "canceled": "canceled",
}


def pretty_json(text: str) -> str:
    """``text`` indented when it is JSON, else as it came (tools may return
    plain text, and a model may send arguments that do not parse)."""
    if not text:
        return ""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: a tool may answer with JSON nested deeper than the
        # parser goes; shown as it came rather than failing the whole page.
        return text
    if not isinstance(value, dict | list):
        return text  # a bare string or number reads better unquoted
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except RecursionError:
        return text


def was_transferred(call: Call) -> bool:
    """The call went to a person: it ended so, or a transfer was dialled."""
    return call.end_reason == EndReason.TRANSFERRED or bool(call.transfer_to)


def shown_transfer_to(number: str, *, show: bool, redact: bool = False) -> str:
    """The transfer destination as a viewer may see it (``transfer_numbers``:
    redacted on a call that redacts phone numbers, else masked like callers')."""
    return NumberRule(show=show, redact=redact).number(number)


def dial_label(status: str) -> str:
    return DIAL_LABELS.get(status, status)


def spans_data(spans: Iterable[CallAssistant]) -> list[dict[str, int | str | None]]:
    """``CallAssistant`` rows as plain data (exports and the page's timeline)."""
    return [
        {
            "assistant_id": span.assistant_id,
            "name": span.name,
            "offset_ms": span.offset_ms,
            "started_at": span.started_at.isoformat() if span.started_at else None,
        }
        for span in spans
    ]
