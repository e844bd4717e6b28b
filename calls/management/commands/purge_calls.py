"""``manage.py purge_calls``: delete recordings and transcripts past retention.

Run once a day (docs/recordings-and-privacy.md, Retention). The rules and the
deleting are in ``calls.privacy.retention``; this prints what was (or, with
``--dry-run``, would be) done.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.privacy import retention


class Command(BaseCommand):
    help = (
        "Delete call recordings (files, then rows) and transcripts older than "
        "their assistant's retention or RECORDING_RETENTION_DAYS / "
        "TRANSCRIPT_RETENTION_DAYS. Safe to run again: what is gone stays gone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be deleted and delete nothing.",
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        report = retention.purge_due(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for due in report.done:
            self.stdout.write(f"{verb} {due.describe()}")
        for due in report.failed:
            self.stderr.write(f"could not delete {due.describe()}")
        recordings = sum(d.what == retention.RECORDING for d in report.done)
        transcripts = len(report.done) - recordings
        self.stdout.write(
            f"{verb} {recordings} recording(s) and {transcripts} transcript(s)"
            + (" (dry run)" if dry_run else "")
        )
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} could not be deleted; they are retried next run"
            )
