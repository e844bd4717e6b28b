"""``manage.py export_calls``: calls with their transcripts as JSON or CSV on stdout.

Same data as the transcript downloads on the call page (``review.exports``), with the
numbers in full (an operator's tool; ``--mask`` masks them as the pages do).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from calls import pricing
from calls.review import exports


def parse_since(value: str) -> dt.datetime:
    """YYYY-MM-DD (midnight in TIME_ZONE) or an ISO datetime (naive = TIME_ZONE)."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(value)
            moment = dt.datetime.combine(day, dt.time.min)
    except ValueError as exc:
        raise CommandError(
            f"--since {value!r} is not a date (YYYY-MM-DD) or ISO datetime"
        ) from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class Command(BaseCommand):
    help = "Print calls with their transcripts, latencies, usage and cost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--call-sid", help="Only this call.")
        parser.add_argument(
            "--since", help="Only calls created at or after this date/datetime."
        )
        parser.add_argument(
            "--format",
            choices=("json", "csv"),
            default="json",
            help="json: one object per call with its transcript; csv: one row per "
            "transcript entry (default: %(default)s).",
        )
        parser.add_argument(
            "--mask",
            action="store_true",
            help="Mask callers' numbers as the pages do for viewers without "
            "calls.view_caller_number (default: full numbers).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_since(options["since"]) if options["since"] else None
        queryset = exports.export_queryset(call_sid=options["call_sid"], since=since)
        if options["call_sid"] and not queryset.exists():
            raise CommandError(f"No call with CallSid {options['call_sid']!r}.")
        calls = exports.iter_call_dicts(
            queryset,
            prices=pricing.Prices.from_settings(settings),
            show_numbers=not options["mask"],
        )
        render = exports.iter_csv if options["format"] == "csv" else exports.iter_json
        for chunk in render(calls):
            self.stdout.write(chunk, ending="")
