"""Writes that survive: concurrent call ends on SQLite, the recorder through a
database outage, stale calls closed by every process's sweep."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from typing import Any

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from calls.callstate import actions as a
from calls.models import Call, CallStatus, EndReason, TranscriptEntry
from calls.runtime import log_writer as log_writer_module
from calls.runtime import sweeper
from calls.runtime.log_writer import CallLogWriter
from calls.services.lifecycle import HEARTBEAT_SECONDS, LOST_AFTER_BEATS, call_finish
from calls.services.routing import call_route

SECRET_WORDS = "my card number is four two four two"


def make_call(sid: str, phone_number: Any) -> Call:
    call_route(call_sid=sid, from_number="+15557654321", to_number="+15550000001")
    return Call.objects.get(call_sid=sid)


def sid(n: int) -> str:
    return f"CA{n:032x}"


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_call_end_among_40_concurrent_ones_on_sqlite(
    phone_number: Any,
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's lock upgrade is what is under test")
    sids = [sid(n) for n in range(40)]
    for call_sid in sids:
        make_call(call_sid, phone_number)
    Call.objects.update(status=CallStatus.IN_PROGRESS, stream_claimed_at=timezone.now())
    barrier = threading.Barrier(len(sids))
    errors: list[BaseException] = []

    def end(call_sid: str) -> None:
        try:
            barrier.wait()
            call_finish(call_sid=call_sid, end_reason=EndReason.CALLER_HUNG_UP)
        except BaseException as exc:  # "database is locked" on DEFERRED
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=end, args=(s,)) for s in sids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert (
        Call.objects.filter(ended_at__isnull=False, status=CallStatus.COMPLETED).count()
        == 40
    )


class FlakyDatabase:
    """Makes the recorder's service calls fail like an unreachable server for the
    first ``failures`` attempts (each ``fail_for`` call), then work."""

    def __init__(self, monkeypatch: Any, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        for name in ("transcript_entry_add", "call_add_usage", "call_mark_started"):
            real = getattr(log_writer_module, name)
            monkeypatch.setattr(log_writer_module, name, self._wrap(real))

    def _wrap(self, real: Any) -> Any:
        def flaky(**kwargs: Any) -> Any:
            self.attempts += 1
            if self.failures > 0:
                self.failures -= 1
                raise OperationalError(f"server closed the connection: {kwargs}")
            return real(**kwargs)

        return flaky


def turn(seq: int, text: str) -> a.SaveTranscript:
    return a.SaveTranscript(seq=seq, role="user", text=text)


@pytest.fixture
def fast_retries(monkeypatch: Any) -> None:
    monkeypatch.setattr(log_writer_module, "FIRST_RETRY_SECONDS", 0.01)
    monkeypatch.setattr(log_writer_module, "MAX_RETRY_SECONDS", 0.02)


@pytest.mark.django_db(transaction=True)
async def test_it_keeps_every_write_in_order_through_an_outage(
    phone_number: Any, monkeypatch: Any, fast_retries: None, caplog: Any
) -> None:
    call_sid = sid(1000)
    await asyncio.to_thread(make_call, call_sid, phone_number)
    flaky = FlakyDatabase(monkeypatch, failures=25)
    recorder = CallLogWriter(call_sid)
    recorder.start()
    caplog.set_level(logging.INFO)
    for seq in range(1, 6):
        recorder.put(turn(seq, f"{SECRET_WORDS} {seq}"))
    recorder.put(a.AddUsage({"output_audio_tokens": 7}))
    await recorder.drain()

    def stored() -> tuple[list[int], int]:
        call = Call.objects.get(call_sid=call_sid)
        seqs = list(
            TranscriptEntry.objects.filter(call=call)
            .order_by("pk")
            .values_list("seq", flat=True)
        )
        return seqs, call.output_audio_tokens

    assert await asyncio.to_thread(stored) == ([1, 2, 3, 4, 5], 7)
    assert flaky.attempts > 25  # it really retried
    assert recorder.lost == {}
    assert "retrying" in caplog.text
    assert SECRET_WORDS not in caplog.text  # not even inside the error's text


@pytest.mark.django_db(transaction=True)
async def test_it_records_on_the_call_what_it_had_to_give_up(
    phone_number: Any, monkeypatch: Any, fast_retries: None, caplog: Any
) -> None:
    call_sid = sid(1001)
    await asyncio.to_thread(make_call, call_sid, phone_number)
    monkeypatch.setattr(log_writer_module, "RETRY_FOR_SECONDS", 0.05)
    FlakyDatabase(monkeypatch, failures=10_000)
    recorder = CallLogWriter(call_sid)
    recorder.start()
    recorder.put(turn(1, SECRET_WORDS))
    recorder.put(turn(2, SECRET_WORDS))
    recorder.put(a.AddUsage({"output_audio_tokens": 7}))
    await recorder.drain()
    assert dict(recorder.lost) == {"SaveTranscript": 2, "AddUsage": 1}
    # The database is back for the call's end: the loss is written down.
    await recorder.finish(a.EndCall(reason=EndReason.CALLER_HUNG_UP), bad_frames=0)
    call = await asyncio.to_thread(Call.objects.get, call_sid=call_sid)
    assert (
        "3 writes lost during a database outage (1 usage update, 2 transcript turns)."
        in call.error
    )
    assert call.ended_at is not None
    assert SECRET_WORDS not in caplog.text


def test_it_bounds_the_queue_and_counts_what_did_not_fit(monkeypatch: Any) -> None:
    monkeypatch.setattr(log_writer_module, "MAX_QUEUED_WRITES", 3)
    recorder = CallLogWriter(sid(1002))
    for seq in range(5):
        recorder.put(turn(seq, "x"))
    assert recorder.lost == {"SaveTranscript": 2}


@pytest.mark.django_db(transaction=True)
async def test_the_sweep_closes_calls_nobody_heartbeats_and_unstreamed_ones(
    phone_number: Any, settings: Any
) -> None:
    settings.STREAM_TOKEN_TTL_SECONDS = 120
    now = timezone.now()

    def setup() -> None:
        for n in (1, 2, 3, 4):
            make_call(sid(n), phone_number)
        old = now - dt.timedelta(seconds=HEARTBEAT_SECONDS * LOST_AFTER_BEATS + 1)
        # 1: streamed, its process died 31 s ago.
        Call.objects.filter(call_sid=sid(1)).update(
            status=CallStatus.IN_PROGRESS, stream_claimed_at=old, heartbeat_at=old
        )
        # 2: streamed and heartbeating: left alone.
        Call.objects.filter(call_sid=sid(2)).update(
            status=CallStatus.IN_PROGRESS, stream_claimed_at=old, heartbeat_at=now
        )
        # 3: never streamed, its token expired (not 10 minutes: the token's life).
        Call.objects.filter(call_sid=sid(3)).update(
            created_at=now - dt.timedelta(seconds=121)
        )
        # 4: never streamed yet, token still valid.
        Call.objects.filter(call_sid=sid(4)).update(
            created_at=now - dt.timedelta(seconds=60)
        )

    await asyncio.to_thread(setup)
    closed = await sweeper.sweep_once()
    assert sorted((c.call_sid, c.end_reason) for c in closed) == [
        (sid(1), EndReason.PROCESS_LOST),
        (sid(3), EndReason.NO_STREAM),
    ]
    call = await asyncio.to_thread(Call.objects.get, call_sid=sid(1))
    assert call.status == CallStatus.FAILED and "server's sweep" in call.error
    assert await sweeper.sweep_once() == []  # a second process's sweep: nothing left


async def test_the_sweep_starts_once_per_process(
    settings: Any, monkeypatch: Any
) -> None:
    settings.CALLS_SWEEP_SECONDS = 3600
    sweeps: list[int] = []

    async def fake_sweep() -> list[Any]:
        sweeps.append(1)
        return []

    monkeypatch.setattr(sweeper, "sweep_once", fake_sweep)
    monkeypatch.setattr(sweeper, "_task", None)
    sweeper.ensure_started()
    sweeper.ensure_started()
    await asyncio.sleep(0.01)
    assert sweeps == [1]
    assert sweeper._task is not None
    sweeper._task.cancel()
