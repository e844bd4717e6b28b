"""WEBHOOK_ALLOW_INTERNAL on a call: without it a webhook tool on this machine is
refused (the model gets an error, nothing is sent); with it the tool answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistants.models import WebhookTool
from calls.models import TranscriptRole
from calls.tests.support import e2e
from calls.tests.support.echo import EchoThread
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.realtime_server.tool_script import ScriptedToolCall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def strict_server(
    django_db_setup: Any, django_db_blocker: Any, simulator: SimulatorThread
) -> Iterator[ServerProcess]:
    """A production server whose deployment allows no internal destination."""
    process = e2e.start_server(simulator.url, WEBHOOK_ALLOW_INTERNAL="")
    yield process
    process.stop()


def call_the_tool(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> tuple[Any, int]:
    tool = WebhookTool.objects.create(
        assistant_id=phone_number.assistant_id,
        name="lookup_order",
        description="Look up an order by its number.",
        url="http://127.0.0.1:1/",
        parameters={},
    )
    config = simulator.simulator.config
    config.tool_calls = [ScriptedToolCall("lookup_order", "{}")]
    try:
        with EchoThread(tool.secret, delay=0.0) as echo:
            WebhookTool.objects.filter(pk=tool.pk).update(url=echo.url)
            report = e2e.run_call(e2e.caller_options(server))
            received = len(echo.received)
    finally:
        config.tool_calls = []
    call = e2e.finished_call(report.call_sid)
    (row,) = call.transcript_entries.filter(role=TranscriptRole.TOOL)
    return row, received


def test_without_the_allow_list_a_local_tool_is_refused_on_the_call(
    strict_server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    row, received = call_the_tool(strict_server, simulator, phone_number)
    assert received == 0
    assert row.tool_status == "error"
    assert "not allowed" in row.text


def test_with_the_allow_list_the_same_tool_answers(
    server: ServerProcess, simulator: SimulatorThread, phone_number: Any
) -> None:
    # The suite's servers allow 127.0.0.1/32 (calls/tests/support/e2e.py).
    row, received = call_the_tool(server, simulator, phone_number)
    assert received == 1
    assert row.tool_status == "ok"
