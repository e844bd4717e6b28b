"""A staff transfer nobody answers, end to end: ``<Dial action>`` -> no-answer ->
the caller is back with the assistant on a second stream of the same call.

The call streams to the production server that shares Redis
with this test process, so ``manage.py calls transfer`` reaches it. The Twilio
simulator follows the ``<Connect action>``, answers the ``<Dial action>`` as
Twilio would for a dial nobody picked up, and opens the new stream it is given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from calls.models import Call, CallStatus, EndReason
from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import CallReport, Pause, WaitForReply

pytestmark = pytest.mark.django_db(transaction=True)

TRANSFER_TO = "+15550002222"


@pytest.fixture
def server(
    server_kind: str,
    simulator: SimulatorThread,
    redis_url: str,
    phone_number: Any,
    redis_layer: None,
) -> Iterator[ServerProcess]:
    process = e2e.start_server(simulator.url, server=server_kind, REDIS_URL=redis_url)
    yield process
    process.stop()


def wait_for(predicate: Any, what: str, timeout_s: float = 15) -> Call:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        call = Call.objects.filter().first()
        if call is not None and predicate(call):
            return call
        time.sleep(0.05)
    raise AssertionError(f"{what}: {Call.objects.filter().first()!r}")


@pytest.mark.redis
def test_it_brings_the_caller_back_when_nobody_answers_the_transfer(
    server: ServerProcess, settings: Any
) -> None:
    settings.TRANSFER_ALLOWED_PREFIXES = [TRANSFER_TO]  # the command checks it
    script = [WaitForReply(optional=True, timeout_s=10), Pause(30_000)]
    options = e2e.caller_options(server, script=script, dial_outcome="no-answer")
    reports: list[CallReport] = []
    thread = threading.Thread(
        target=lambda: reports.append(e2e.run_call(options)), daemon=True
    )
    thread.start()
    wait_for(
        lambda c: c.status == CallStatus.IN_PROGRESS and c.transcript_entries.exists(),
        "the call never got going",
    )
    call_command("calls", "transfer", options.call_sid, TRANSFER_TO, "--by", "ops")
    thread.join(timeout=60)
    assert reports, "the simulated call did not finish"
    report = reports[0]

    assert not report.errors, report.errors
    assert (report.dialed, report.dial_status) == (TRANSFER_TO, "no-answer")
    assert len(report.stream_sids) == 2
    assert len(set(report.stream_sids)) == 2
    assert report.hung_up_by == "caller"  # the resumed stream's script hung up
    call = wait_for(
        lambda c: c.ended_at is not None and c.streams == 2, "never finalised"
    )
    assert (call.transfer_status, call.end_reason, call.transfer_to) == (
        "no-answer",
        EndReason.CALLER_HUNG_UP,
        TRANSFER_TO,
    )
    assert call.stream_sid == report.stream_sids[1]
    rows = list(call.transcript_entries.order_by("seq"))
    seqs = [row.seq for row in rows]
    assert seqs == sorted(set(seqs))
    texts = [(row.role, row.text) for row in rows]
    transferred = next(
        i
        for i, (role, text) in enumerate(texts)
        if role == "system" and text.startswith(f"Transferred to {TRANSFER_TO} by ops")
    )
    dialled = texts.index(("system", f"Transfer to {TRANSFER_TO}: no-answer"))
    assert transferred < dialled
    after = rows[dialled + 1 :]
    assert any(
        row.role == "assistant" and "nobody at that line answered" in row.text
        for row in after
    ), texts
    assert any(row.role == "caller" for row in after)  # the caller spoke again
    assert [r.role for r in rows[:transferred]].count("assistant") >= 1  # greeting
    offsets = [row.offset_ms for row in rows]
    assert after[0].offset_ms >= max(offsets[:dialled])  # the call's timeline
