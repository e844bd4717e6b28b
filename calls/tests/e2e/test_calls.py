"""End to end over real sockets: a server + the Realtime simulator + simulated Twilio.

The production server serves the project in a subprocess on the test database;
each test places a call with the Twilio simulator and then checks the caller's
report, the simulator's record of the Realtime leg, and the rows the server
wrote.
"""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import CallOutcome, CallStatus, EndReason, TranscriptRole
from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import (
    DEFAULT_ANSWERS,
    DEFAULT_CALLER_LINES,
    ConnectionRecord,
    SimulatorThread,
)
from calls.tooling.simulators.twilio_caller import (
    HangUp,
    Hook,
    Pause,
    SendRaw,
    Speak,
    WaitForAudio,
    WaitForReply,
)

pytestmark = pytest.mark.django_db(transaction=True)


def new_connections(simulator: SimulatorThread, before: int) -> list[ConnectionRecord]:
    return simulator.simulator.connections[before:]


def entries(call: Any, role: str) -> list[Any]:
    return [e for e in call.transcript_entries.all() if e.role == role]


@pytest.mark.also_daphne
def test_it_completes_a_normal_call(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    before = len(simulator.simulator.connections)
    report = e2e.run_call(e2e.caller_options(server))

    assert report.errors == [], report.errors
    assert report.first_audio_ms is not None  # the greeting
    assert len(report.reply_latencies_ms) == 2
    assert report.hung_up_by == "caller"
    (leg,) = new_connections(simulator, before)
    assert leg.closed.wait(5)
    assert leg.error_codes == []
    assert leg.session["audio"]["input"]["format"] == {"type": "audio/pcmu"}

    call = e2e.finished_call(report.call_sid)
    assert call.status == CallStatus.COMPLETED
    assert call.end_reason == EndReason.CALLER_HUNG_UP
    assert call.outcome == CallOutcome.ANSWERED
    assert call.stream_sid == report.stream_sid
    assert call.error == ""
    greeting, *answers = entries(call, TranscriptRole.ASSISTANT)
    assert greeting.text == phone_number.assistant.greeting
    assert [e.text for e in answers] == list(DEFAULT_ANSWERS[:2])
    assert all(e.reply_latency_ms is not None for e in answers)
    callers = entries(call, TranscriptRole.CALLER)
    assert [e.text for e in callers] == list(DEFAULT_CALLER_LINES[:2])
    assert call.input_tokens > 0 and call.output_tokens > 0
    assert call.output_audio_tokens > 0 and call.cached_text_tokens > 0
    assert call.bad_frames == 0


def test_it_handles_a_barge_in(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    config = simulator.simulator.config

    def long_answers() -> None:
        # Generated in real time, so the barge-in lands mid-generation.
        config.realtime_factor, config.ms_per_char = 1.0, 40

    before = len(simulator.simulator.connections)
    script = e2e.quick_script(barge_in=True)
    script.insert(3, Hook(long_answers))  # before the second turn
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.errors == [], report.errors
    assert report.clears >= 1
    assert report.turns[-1].barge_in
    (leg,) = new_connections(simulator, before)
    assert leg.closed.wait(5)
    assert leg.truncations, "the bridge sent no conversation.item.truncate"
    for truncation in leg.truncations:
        assert truncation["accepted"], truncation
        assert 0 <= truncation["audio_end_ms"] <= truncation["audio_ms"]
    cancelled = [
        e
        for e in leg.sent_of("response.done")
        if e["response"]["status"] == "cancelled"
    ]
    assert cancelled

    call = e2e.finished_call(report.call_sid)
    assert call.status == CallStatus.COMPLETED
    interrupted = [e for e in entries(call, TranscriptRole.ASSISTANT) if e.interrupted]
    assert interrupted
    assert DEFAULT_ANSWERS[1].startswith(interrupted[0].text)
    assert interrupted[0].text != DEFAULT_ANSWERS[1]


def test_it_refuses_a_stream_with_a_bad_signature(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    before = len(simulator.simulator.connections)
    report = e2e.run_call(e2e.caller_options(server, tamper_signature=True))

    assert report.handshake_status == 403
    assert new_connections(simulator, before) == []
    call = phone_number.calls.get(call_sid=report.call_sid)
    assert call.stream_sid == ""
    assert call.transcript_entries.count() == 0


def test_it_refuses_a_stream_with_a_bad_token(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    before = len(simulator.simulator.connections)
    report = e2e.run_call(e2e.caller_options(server, tamper_token=True))

    assert report.handshake_status == 403, report
    assert new_connections(simulator, before) == []
    call = phone_number.calls.get(call_sid=report.call_sid)
    assert call.stream_sid == ""
    assert call.transcript_entries.count() == 0


def test_it_ends_the_call_when_openai_refuses_the_key(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    simulator.simulator.faults.reject_all_keys = True
    report = e2e.run_call(e2e.caller_options(server))

    assert report.hung_up_by == "server", report
    assert report.says[-1] == phone_number.assistant.unavailable_message, report
    call = e2e.finished_call(report.call_sid)
    assert call.end_reason == EndReason.REALTIME_ERROR, call.error
    assert "401" in call.error
    assert call.transcript_entries.count() == 0


def test_it_keeps_the_transcript_when_openai_drops_mid_call(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    def drop() -> None:
        simulator.call(simulator.simulator.drop_all)

    script = [
        WaitForReply(300),
        Speak(800),
        WaitForReply(300),
        Hook(drop),
        Pause(10_000),
        HangUp(),
    ]
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.hung_up_by == "server"
    call = e2e.finished_call(report.call_sid)
    assert call.end_reason == EndReason.REALTIME_DISCONNECTED
    # Twilio's status says the phone call completed; the outcome says it failed.
    assert (call.status, call.outcome) == (CallStatus.COMPLETED, CallOutcome.FAILED)
    assert call.error != ""
    texts = [e.text for e in call.transcript_entries.all()]
    assert phone_number.assistant.greeting in texts
    assert DEFAULT_ANSWERS[0] in texts


def test_it_counts_malformed_frames_and_carries_on(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    script = [
        WaitForReply(300),
        SendRaw("this is not json"),
        SendRaw('{"event": "media", "streamSid": "MZx"}'),
        SendRaw('{"event": "no-such-event"}'),
        # Over our 64 KiB cap, under the server's 256 KiB one: counted, ignored.
        SendRaw('{"event": "media", "pad": "' + "x" * 100_000 + '"}'),
        Speak(800),
        WaitForReply(300),
        HangUp(),
    ]
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.errors == [], report.errors
    assert len(report.reply_latencies_ms) == 1
    call = e2e.finished_call(report.call_sid)
    assert call.bad_frames >= 4
    assert call.status == CallStatus.COMPLETED
    assert [e.text for e in entries(call, TranscriptRole.CALLER)] == [
        DEFAULT_CALLER_LINES[0]
    ]


def test_it_closes_the_realtime_leg_when_the_caller_hangs_up_mid_answer(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    simulator.simulator.config.realtime_factor = 1.0
    before = len(simulator.simulator.connections)
    script = [WaitForReply(300), Speak(800), WaitForAudio(), Pause(300), HangUp()]
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.hung_up_by == "caller"
    (leg,) = new_connections(simulator, before)
    assert leg.closed.wait(5), "the Realtime leg stayed open after the hang-up"
    call = e2e.finished_call(report.call_sid)
    assert call.end_reason == EndReason.CALLER_HUNG_UP
    assert call.status == CallStatus.COMPLETED
