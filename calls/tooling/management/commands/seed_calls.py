"""``manage.py seed_calls N``: fake calls with transcripts, for demos and measuring.

Creates N calls (6-10 transcript entries each) spread over the last ``--days`` days
with ``bulk_create`` in batches, a few of them still in progress (``--live``).
``--measure`` then times the call log's first page, rendered through the real view,
and prints the figure (median of ``--runs``) with the query count. Use a throwaway
database: the calls are fake, but they land in whatever DATABASE_URL points at.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistants.models import Assistant
from calls.models import (
    Call,
    CallDirection,
    CallStatus,
    EndReason,
    TranscriptEntry,
    TranscriptRole,
)
from calls.review import views

CALLER_LINES = (
    "Hi, I'd like to book an appointment for next week.",
    "Do you have anything on Tuesday morning?",
    "What are your opening hours on Saturday?",
    "Can I change my booking to a later time?",
    "How much is a check-up without insurance?",
    "Yes, that works for me, thank you.",
    "Sorry, could you repeat that?",
    "My name is Alex Morgan, M-O-R-G-A-N.",
)
ASSISTANT_LINES = (
    "Thanks for calling ACME Dental, how can I help?",
    "Of course. Which day suits you best?",
    "We have 9:30 or 11:00 on Tuesday. Which would you prefer?",
    "We're open from 9 until 1 on Saturdays.",
    "A check-up is 85 dollars without insurance.",
    "You're booked in. Is there anything else I can help with?",
    "Certainly. I said we have 9:30 or 11:00 available.",
    "Thanks, Alex. Have a lovely day!",
)
OUTCOMES = (
    (CallStatus.COMPLETED, 86),
    (CallStatus.NO_ANSWER, 4),
    (CallStatus.BUSY, 3),
    (CallStatus.FAILED, 4),
    (CallStatus.REJECTED, 3),
)


@contextlib.contextmanager
def explicit_created_at() -> Iterator[None]:
    """Let bulk_create keep our created_at values (auto_now_add would overwrite)."""
    field = Call._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


class Command(BaseCommand):
    help = "Create N fake calls with transcripts; optionally time the call log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many calls to create.")
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="Spread the calls over this many days up to now "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--live",
            type=int,
            default=2,
            help="How many of them are still in progress (default: %(default)s).",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=1000,
            help="Rows per INSERT (default: %(default)s).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (default: %(default)s)."
        )
        parser.add_argument(
            "--measure",
            action="store_true",
            help="Afterwards, time the call log's queries (default: off).",
        )
        parser.add_argument(
            "--runs",
            type=int,
            default=7,
            help="With --measure: timed runs per query (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        assistants = self.assistants()
        created, started = 0, time.perf_counter()
        while created < options["count"]:
            size = min(options["batch"], options["count"] - created)
            live = max(0, min(size, options["live"] - created))
            self.create_batch(rng, assistants, size, live, options["days"])
            created += size
        if created:
            self.analyze()
            self.stdout.write(
                f"Created {created} calls in {time.perf_counter() - started:.1f} s "
                f"({Call.objects.count()} calls, "
                f"{TranscriptEntry.objects.count()} entries in the database)."
            )
        if options["measure"]:
            self.measure(options["runs"])

    @staticmethod
    def analyze() -> None:
        """Refresh PostgreSQL's statistics, as autovacuum soon would after a bulk load.

        Not on SQLite, which gathers none unless asked: measure what deployments get.
        """
        if connection.vendor != "postgresql":
            return
        tables = [Call._meta.db_table, TranscriptEntry._meta.db_table]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def assistants(self) -> list[Assistant]:
        found = list(Assistant.objects.all()[:5])
        if found:
            return found
        return [
            Assistant.objects.create(name="Demo front desk", voice="marin"),
            Assistant.objects.create(name="Demo after hours", voice="cedar"),
        ]

    def create_batch(
        self,
        rng: random.Random,
        assistants: list[Assistant],
        size: int,
        live: int,
        days: int,
    ) -> None:
        now = timezone.now()
        calls = [
            self.fake_call(rng, rng.choice(assistants), now, days, index < live)
            for index in range(size)
        ]
        with explicit_created_at():
            Call.objects.bulk_create(calls)
        ids = dict(
            Call.objects.filter(call_sid__in=[c.call_sid for c in calls]).values_list(
                "call_sid", "pk"
            )
        )
        entries = []
        for call in calls:
            if call.status in (CallStatus.COMPLETED, CallStatus.IN_PROGRESS):
                entries.extend(self.fake_entries(rng, ids[call.call_sid]))
        TranscriptEntry.objects.bulk_create(entries, batch_size=2000)

    def fake_call(
        self,
        rng: random.Random,
        assistant: Assistant,
        now: dt.datetime,
        days: int,
        live: bool,
    ) -> Call:
        if live:
            created = now - dt.timedelta(seconds=rng.randint(5, 120))
            status = CallStatus.IN_PROGRESS
        else:
            created = now - dt.timedelta(seconds=rng.randint(0, days * 86400))
            statuses = [outcome for outcome, _ in OUTCOMES]
            status = rng.choices(statuses, [weight for _, weight in OUTCOMES])[0]
        answered = status in (CallStatus.COMPLETED, CallStatus.IN_PROGRESS)
        duration = rng.randint(30, 420) if answered else 0
        audio_in, audio_out = duration * 10, duration * 20
        return Call(
            call_sid=f"CA{rng.getrandbits(128):032x}",
            direction=CallDirection.INBOUND,
            from_number=f"+1555{rng.randint(0, 9_999_999):07d}",
            to_number="+15550000001",
            assistant=assistant,
            assistant_snapshot=assistant.snapshot(),
            status=status,
            created_at=created,
            started_at=created + dt.timedelta(seconds=2) if answered else None,
            ended_at=None if live else created + dt.timedelta(seconds=duration + 2),
            duration_seconds=None if live else duration,
            end_reason="" if live else self.end_reason(status),
            input_tokens=audio_in + 900 if answered else 0,
            input_audio_tokens=audio_in,
            input_text_tokens=900 if answered else 0,
            cached_text_tokens=700 if answered else 0,
            output_tokens=audio_out + 60 if answered else 0,
            output_audio_tokens=audio_out,
            output_text_tokens=60 if answered else 0,
        )

    @staticmethod
    def end_reason(status: str) -> str:
        if status == CallStatus.COMPLETED:
            return EndReason.CALLER_HUNG_UP
        if status == CallStatus.REJECTED:
            return EndReason.REJECTED
        return EndReason.STATUS_CALLBACK

    def fake_entries(self, rng: random.Random, call_id: int) -> list[TranscriptEntry]:
        entries, offset = [], 0
        for seq in range(rng.randint(6, 10)):
            assistant = seq % 2 == 0
            role = TranscriptRole.ASSISTANT if assistant else TranscriptRole.CALLER
            offset += rng.randint(1500, 9000)
            latency = rng.randint(350, 1400) if assistant and seq else None
            heard = latency + rng.randint(60, 250) if latency else None
            entries.append(
                TranscriptEntry(
                    call_id=call_id,
                    seq=seq,
                    role=role,
                    text=rng.choice(ASSISTANT_LINES if assistant else CALLER_LINES),
                    item_id=f"item_{call_id}_{seq}",
                    offset_ms=offset,
                    interrupted=assistant and rng.random() < 0.1,
                    failed=not assistant and rng.random() < 0.03,
                    reply_latency_ms=latency,
                    heard_latency_ms=heard,
                )
            )
        return entries

    def measure(self, runs: int) -> None:
        """Render the first page through the view; print the median time."""
        user = get_user_model()(username="bench", is_staff=True, is_superuser=True)
        for label, query in (
            ("first page", {}),
            ("search 'Tuesday'", {"q": "Tuesday"}),
        ):
            timings, queries = [], 0
            for _ in range(runs + 1):  # the first run warms caches and is dropped
                request = RequestFactory().get("/calls/", query)
                request.user, request.session = user, SessionStore()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = views.call_list(request)
                    timings.append((time.perf_counter() - started) * 1000)
                queries = len(captured)
                if response.status_code != 200:
                    raise CommandError(f"/calls/ answered {response.status_code}")
            median, fastest = statistics.median(timings[1:]), min(timings[1:])
            self.stdout.write(
                f"/calls/ {label} with {Call.objects.count()} calls "
                f"({connection.vendor}): median {median:.1f} ms, "
                f"min {fastest:.1f} ms over {runs} runs, {queries} queries"
            )
