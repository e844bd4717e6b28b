"""Builders for the call review tests: calls with transcripts, written directly."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from calls.models import Call, TranscriptEntry

_sids = itertools.count(1)

# Any, not int: spread into make_call(**USAGE) beside its typed keywords.
USAGE: dict[str, Any] = {
    "input_tokens": 12_000,
    "output_tokens": 4_000,
    "input_text_tokens": 2_000,
    "input_audio_tokens": 10_000,
    "cached_text_tokens": 1_000,
    "cached_audio_tokens": 0,
    "output_text_tokens": 500,
    "output_audio_tokens": 3_500,
}

CONVERSATION = (
    {"role": "assistant", "text": "Thanks for calling ACME Dental, how can I help?"},
    {"role": "caller", "text": "I need to move my appointment to Friday."},
    {
        "role": "assistant",
        "text": "Of course. Friday at ten or at two",
        "interrupted": True,
        "reply_latency_ms": 640,
        "heard_latency_ms": 820,
    },
    {"role": "caller", "text": "Ten, please."},
    {"role": "system", "text": "DTMF 5"},
    {
        "role": "assistant",
        "text": "Done: Friday at ten.",
        "reply_latency_ms": 900,
        "heard_latency_ms": 1100,
    },
    {"role": "caller", "text": "", "failed": True},
)


def make_call(
    *,
    assistant: Any = None,
    call_sid: str | None = None,
    status: str = "completed",
    direction: str = "inbound",
    from_number: str = "+15557654321",
    to_number: str = "+15550000001",
    created_at: dt.datetime | None = None,
    entries: Iterable[dict[str, Any]] = (),
    live: bool = False,
    **fields: Any,
) -> Call:
    """A call (finished unless ``live``) with ``entries`` as its transcript."""
    now = timezone.now()
    values: dict[str, Any] = {
        "call_sid": call_sid or f"CA{next(_sids):032d}",
        "status": "in-progress" if live else status,
        "direction": direction,
        "from_number": from_number,
        "to_number": to_number,
        "assistant": assistant,
        "assistant_snapshot": assistant.snapshot() if assistant else {},
        "started_at": now,
        "ended_at": None if live else now,
        "duration_seconds": None if live else 95,
        "end_reason": "" if live else "caller_hung_up",
    }
    values.update(fields)
    call = Call(**values)
    if "outcome" not in fields:
        call.outcome = call.derived_outcome()  # what services would store
    call.save()
    if created_at is not None:
        Call.objects.filter(pk=call.pk).update(created_at=created_at)
        call.created_at = created_at
    TranscriptEntry.objects.bulk_create(
        TranscriptEntry(call=call, seq=seq, offset_ms=seq * 2500, **entry)
        for seq, entry in enumerate(entries)
    )
    return call
