"""End to end: calls that fail loudly, and latency as the simulated caller felt it.

The production server + the Realtime simulator + the Twilio call simulator, over
real sockets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from calls.models import EndReason, TranscriptRole
from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import HangUp, Speak, WaitForReply

pytestmark = pytest.mark.django_db(transaction=True)

# The known delays: the VAD's silence wait (the persona's, 500 ms by default),
# the VAD's processing on top (the simulator's knob) and the model's first audio.
VAD_DELAY_MS = 200
FIRST_AUDIO_DELAY_MS = 150


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    thread = e2e.start_simulator(first_audio_delay_ms=FIRST_AUDIO_DELAY_MS)
    yield thread
    thread.stop()


def test_it_ends_the_call_within_2_s_when_the_session_update_is_rejected(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    simulator.simulator.faults.reject_session_update = True
    script = [Speak(800), WaitForReply(300, timeout_s=5, optional=True), HangUp()]
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.hung_up_by == "server", report
    assert report.says[-1] == phone_number.assistant.unavailable_message, report
    call = e2e.finished_call(report.call_sid)
    assert call.end_reason == EndReason.REALTIME_ERROR, call.error
    assert "session.update rejected" in call.error
    assert "Simulated fault: this session.update is rejected." in call.error
    assert call.started_at is not None and call.ended_at is not None
    assert (call.ended_at - call.started_at).total_seconds() < 2.0
    assert call.transcript_entries.count() == 0


def test_it_stores_the_latency_the_caller_measured(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    simulator.simulator.config.vad_delay_ms = VAD_DELAY_MS
    script = [
        WaitForReply(300, timeout_s=10),
        Speak(800),
        WaitForReply(300),
        Speak(800),
        WaitForReply(300),
        HangUp(),
    ]
    report = e2e.run_call(e2e.caller_options(server, script=script))
    assert report.errors == [], report.errors

    call = e2e.finished_call(report.call_sid)
    _, *answers = [
        e for e in call.transcript_entries.all() if e.role == TranscriptRole.ASSISTANT
    ]
    assert len(answers) == len(report.turns) == 2
    for turn, entry in zip(report.turns, answers, strict=True):
        assert turn.reply_latency_ms is not None and turn.heard_latency_ms is not None
        assert entry.reply_latency_ms is not None and entry.heard_latency_ms is not None
        # Counted from the caller's last audio: the VAD's silence wait and its
        # delay are in it, as the caller felt them.
        assert entry.reply_latency_ms > 500 + VAD_DELAY_MS + FIRST_AUDIO_DELAY_MS - 30
        assert abs(entry.reply_latency_ms - turn.reply_latency_ms) <= 30, (
            entry.reply_latency_ms,
            turn.reply_latency_ms,
        )
        assert abs(entry.heard_latency_ms - turn.heard_latency_ms) <= 30, (
            entry.heard_latency_ms,
            turn.heard_latency_ms,
        )
        engine = getattr(entry, "engine_latency_ms", None)
        if engine is not None:  # stored once the model has the field
            assert abs(engine - FIRST_AUDIO_DELAY_MS) <= 60, engine
