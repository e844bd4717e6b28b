"""End to end: the model ends the call with ``end_call`` (the server, the Realtime
simulator scripted to call it, simulated Twilio); the goodbye plays, the stream
closes and the ``<Connect action>`` answers ``<Hangup/>``."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from assistants.models import Assistant, WebhookTool
from calls.models import EndReason, TranscriptRole
from calls.tests.support import e2e
from calls.tests.support.echo import EchoThread
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.realtime_server.tool_script import ScriptedToolCall

logger = logging.getLogger(__name__)
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_model_ends_the_call_and_twilio_hangs_up(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    Assistant.objects.filter(pk=phone_number.assistant_id).update(
        end_call_enabled=True, end_call_goodbye="Thanks for calling, goodbye!"
    )
    config = simulator.simulator.config
    config.tool_calls = [ScriptedToolCall("end_call", '{"reason": "done"}')]
    try:
        report = e2e.run_call(e2e.caller_options(server))
    finally:
        config.tool_calls = []

    assert report.hung_up_by == "server"
    assert "Hangup" in report.next_twiml, report.next_twiml
    call = e2e.finished_call(report.call_sid)
    assert call.end_reason == EndReason.ASSISTANT_ENDED
    (tool,) = [
        e for e in call.transcript_entries.all() if e.role == TranscriptRole.TOOL
    ]
    assert (tool.tool_name, tool.tool_status) == ("end_call", "ok")
    spans = list(call.assistant_spans.values_list("name", flat=True))
    assert spans == [phone_number.assistant.name]


TIMING = re.compile(r"tool 'lookup_order' ok: started (\d+) ms after the call")
ANSWER = re.compile(r"tool result -> first answer audio in (\d+) ms")


def test_a_webhook_tool_answers_and_the_model_speaks_its_result(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    tool = WebhookTool.objects.create(
        assistant_id=phone_number.assistant_id,
        name="lookup_order",
        description="Look up an order by its number.",
        url="http://127.0.0.1:1/",
        parameters={"type": "object", "properties": {"order": {"type": "string"}}},
    )
    config = simulator.simulator.config
    config.tool_calls = [ScriptedToolCall("lookup_order", '{"order": "A17"}')]
    try:
        with EchoThread(tool.secret, delay=0.2) as echo:
            WebhookTool.objects.filter(pk=tool.pk).update(url=echo.url)
            report = e2e.run_call(e2e.caller_options(server))
            assert len(echo.received) == 1
            assert echo.received[0].verified
    finally:
        config.tool_calls = []

    call = e2e.finished_call(report.call_sid)
    (row,) = call.transcript_entries.filter(role=TranscriptRole.TOOL)
    assert (row.tool_name, row.tool_status) == ("lookup_order", "ok")
    assert "A17" in row.text
    assert row.duration_ms is not None and row.duration_ms >= 200
    log = server.log_tail(400)
    starts = [int(m) for m in TIMING.findall(log)]
    answers = [int(m) for m in ANSWER.findall(log)]
    assert starts and answers, log
    # The simulator waits first_audio_delay_ms (150) before any answer audio.
    assert starts[-1] < 100
    assert 150 <= answers[-1] < 1000
    logger.info(
        "tool start delay %d ms, run %d ms, result -> first answer audio %d ms",
        starts[-1],
        row.duration_ms,
        answers[-1],
    )


FILLER = "One moment while I check."


def test_a_slow_webhook_tools_filler_is_said_before_its_result(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    tool = WebhookTool.objects.create(
        assistant_id=phone_number.assistant_id,
        name="lookup_order",
        description="Look up an order by its number.",
        url="http://127.0.0.1:1/",
        parameters={"type": "object", "properties": {"order": {"type": "string"}}},
        filler=FILLER,
    )
    config = simulator.simulator.config
    config.tool_calls = [ScriptedToolCall("lookup_order", '{"order": "A17"}')]
    try:
        # Slower than the filler's moment (TOOL_FILLER_AFTER_MS, 1500 by default).
        with EchoThread(tool.secret, delay=2.5) as echo:
            WebhookTool.objects.filter(pk=tool.pk).update(url=echo.url)
            report = e2e.run_call(e2e.caller_options(server))
            assert len(echo.received) == 1
    finally:
        config.tool_calls = []

    call = e2e.finished_call(report.call_sid)
    rows = list(call.transcript_entries.order_by("seq"))
    (tool_row,) = [r for r in rows if r.role == TranscriptRole.TOOL]
    assert tool_row.tool_status == "ok"
    said = [r.text for r in rows if r.role == TranscriptRole.ASSISTANT]
    assert FILLER in said, said
    result = next(i for i, text in enumerate(said) if "A17" in text)
    assert said.index(FILLER) < result, said
    assert said.count(FILLER) == 1
