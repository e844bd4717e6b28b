"""Retention: delete recordings and transcripts older than their assistant keeps them.

Each assistant may set ``recording_retention_days`` / ``transcript_retention_days``;
empty means the deployment's ``RECORDING_RETENTION_DAYS`` /
``TRANSCRIPT_RETENTION_DAYS``, and empty there means keep. A call's age counts from
``Call.created_at``. ``manage.py purge_calls`` runs ``purge_due`` once a day.

The call row itself stays (``calls.services.erasure`` deletes, file first, and
says on the call what went and why). Purging is idempotent: what is gone is not
found again, and a recording whose file failed to delete is found again tomorrow.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from assistants.models import Assistant
from calls.conf import app_settings
from calls.models import Call, Recording, TranscriptEntry
from calls.services.erasure import recording_erase, transcript_erase

logger = logging.getLogger(__name__)

RECORDING = "recording"
TRANSCRIPT = "transcript"


@dataclass(frozen=True, slots=True)
class Due:
    """One call's recording or transcript past its retention."""

    what: str  # RECORDING or TRANSCRIPT
    call_id: int
    call_sid: str
    created_at: dt.datetime
    days: int
    # Transcript rows (TRANSCRIPT), 1 (RECORDING).
    rows: int = 1

    def describe(self) -> str:
        """e.g. "the recording of CA12… (call of 2026-10-01, kept 30 days)"."""
        rows = f", {self.rows} rows" if self.what == TRANSCRIPT else ""
        created = timezone.localdate(self.created_at).isoformat()
        return (
            f"the {self.what} of {self.call_sid} "
            f"(call of {created}, kept {self.days} days{rows})"
        )


@dataclass
class PurgeReport:
    done: list[Due] = field(default_factory=list)
    failed: list[Due] = field(default_factory=list)


def purge_sentence(what: str, days: int, now: dt.datetime) -> str:
    """ "recording deleted after 30 days on 2026-12-02" """
    return f"{what} deleted after {days} days on {timezone.localdate(now).isoformat()}"


def _retention_groups(field_name: str, default_days: int | None) -> list[tuple[int, Q]]:
    """(days, which calls) for every retention in force for one kind of data."""
    groups = [
        (days, Q(assistant_id=assistant_id))
        for assistant_id, days in Assistant.objects.filter(
            **{f"{field_name}__isnull": False}
        ).values_list("id", field_name)
    ]
    if default_days:
        # Calls whose assistant sets nothing, or whose assistant was deleted.
        default = Q(assistant__isnull=True) | Q(
            **{f"assistant__{field_name}__isnull": True}
        )
        groups.append((default_days, default))
    return groups


def due_recordings(*, now: dt.datetime) -> list[Due]:
    due = []
    for days, calls in _retention_groups(
        "recording_retention_days", app_settings().recording_retention_days
    ):
        cutoff = now - dt.timedelta(days=days)
        old_calls = Call.objects.filter(calls, created_at__lt=cutoff)
        recordings = (
            Recording.objects.filter(call__in=old_calls)
            .select_related("call")
            .order_by("call__created_at")
        )
        due += [
            Due(RECORDING, r.call_id, r.call.call_sid, r.call.created_at, days)
            for r in recordings
        ]
    return due


def due_transcripts(*, now: dt.datetime) -> list[Due]:
    due = []
    entries = TranscriptEntry.objects.filter(call=OuterRef("pk"))
    for days, calls in _retention_groups(
        "transcript_retention_days", app_settings().transcript_retention_days
    ):
        cutoff = now - dt.timedelta(days=days)
        rows = (
            Call.objects.filter(calls, Exists(entries), created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("id", "call_sid", "created_at")
        )
        for call_id, call_sid, created_at in rows:
            count = TranscriptEntry.objects.filter(call_id=call_id).count()
            due.append(Due(TRANSCRIPT, call_id, call_sid, created_at, days, count))
    return due


def recording_purge(*, call_id: int, days: int, now: dt.datetime) -> bool:
    """Delete one call's recording (file, then row); False if it is already gone."""
    sentence = purge_sentence(RECORDING, days, now)
    return recording_erase(call_id=call_id, sentence=sentence, now=now)


def transcript_purge(*, call_id: int, days: int, now: dt.datetime) -> int:
    """Delete one call's transcript rows; how many there were."""
    sentence = purge_sentence(TRANSCRIPT, days, now)
    return transcript_erase(call_id=call_id, sentence=sentence, now=now)


def purge_due(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete everything past its retention (nothing with ``dry_run``)."""
    now = now or timezone.now()
    report = PurgeReport()
    for due in due_recordings(now=now) + due_transcripts(now=now):
        if dry_run:
            report.done.append(due)
            continue
        try:
            if due.what == RECORDING:
                recording_purge(call_id=due.call_id, days=due.days, now=now)
            else:
                transcript_purge(call_id=due.call_id, days=due.days, now=now)
        except Exception as exc:
            # One unreachable file must not stop the rest; it is due again tomorrow.
            logger.error(
                "could not delete the %s of %s (%s)",
                due.what,
                due.call_sid,
                type(exc).__name__,
            )
            report.failed.append(due)
        else:
            report.done.append(due)
    return report
