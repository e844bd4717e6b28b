"""Calls with recordings and transcripts of a given age, for the retention and
forget tests; recordings go to a temporary storage."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from calls.models import Call, CallDirection, CallStatus, Recording, TranscriptEntry

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
_sids = itertools.count(1)


def make_call(
    *,
    days_old: float,
    assistant: Any = None,
    caller: str = "+15557654321",
    direction: str = CallDirection.INBOUND,
    recording: bool = True,
    lines: int = 2,
) -> Call:
    own = "+15550000001"
    inbound = direction == CallDirection.INBOUND
    call = Call.objects.create(
        call_sid=f"CA{next(_sids):032x}",
        direction=direction,
        from_number=caller if inbound else own,
        to_number=own if inbound else caller,
        assistant=assistant,
    )
    started = NOW - dt.timedelta(days=days_old)
    Call.objects.filter(pk=call.pk).update(
        created_at=started,
        ended_at=started + dt.timedelta(minutes=2),
        status=CallStatus.COMPLETED,
    )
    for seq in range(1, lines + 1):
        TranscriptEntry.objects.create(call=call, seq=seq, role="caller", text="hi")
    if recording:
        rec = Recording(call=call)
        rec.file.save(f"{call.call_sid}.wav", ContentFile(b"RIFF....WAVE"), save=True)
    call.refresh_from_db()
    return call


def stored_files(storage: Any) -> set[str]:
    """Every file under the storage's location, by file name."""
    root = Path(storage.location)
    return {p.name for p in root.rglob("*") if p.is_file()}
