"""End to end with GPT-Live: the server + the GPT-Live simulator + simulated Twilio.

The same call as test_calls.py's, to an assistant whose engine is
``openai-live``: the greeting, two caller turns answered, a barge-in that clears
Twilio's playback, transcript rows in order, usage seconds and their cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from assistants.models import Assistant, WebhookTool
from calls import pricing
from calls.models import CallStatus, EndReason, TranscriptRole
from calls.tests.support import e2e
from calls.tests.support.echo import EchoThread
from calls.tooling.simulators.live_server import LiveSimulatorThread
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import (
    DEFAULT_ANSWERS,
    DEFAULT_CALLER_LINES,
)
from calls.tooling.simulators.realtime_server.tool_script import ScriptedToolCall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveSimulatorThread]:
    thread = LiveSimulatorThread(
        api_key=e2e.SIM_API_KEY,
        first_audio_delay_ms=150,
        transcription_delay_ms=100,
        ms_per_char=40,  # answers of 2-3 s, streamed in real time
        usage_interval_s=0.5,
    )
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def server(
    django_db_setup: Any, django_db_blocker: Any, live: LiveSimulatorThread
) -> Iterator[ServerProcess]:
    # The Realtime URL points nowhere: this call must not use it.
    process = e2e.start_server("ws://127.0.0.1:9/v1/realtime", OPENAI_LIVE_URL=live.url)
    yield process
    process.stop()


def test_it_completes_a_gpt_live_call_with_a_barge_in(
    server: ServerProcess, live: LiveSimulatorThread, phone_number: Any
) -> None:
    Assistant.objects.filter(pk=phone_number.assistant_id).update(
        engine="openai-live", model="gpt-live-1.1", voice="vesper"
    )
    before = len(live.simulator.connections)
    script = e2e.quick_script(turns=2, barge_in=True)
    report = e2e.run_call(e2e.caller_options(server, script=script))

    assert report.errors == [], report.errors
    assert report.first_audio_ms is not None  # the greeting
    assert report.clears >= 1  # the barge-in cleared Twilio's playback
    assert report.turns[-1].barge_in
    assert report.hung_up_by == "caller"
    (leg,) = live.simulator.connections[before:]
    assert leg.closed.wait(5)
    assert leg.error_codes == []
    assert leg.warnings == []
    assert leg.path == "/v1/live/sessions"
    assert leg.session["model"] == "gpt-live-1.1"
    assert leg.session["audio"] == {
        "format": {"type": "audio/pcmu", "rate": 8000},
        "output": {"voice": "vesper"},
    }
    kinds = [e["type"] for e in leg.events]
    assert kinds[0] == "session.start"
    assert kinds[1] == "session.instructions.append"  # the greeting
    assert kinds[-1] == "session.close"
    assert [t for t in leg.truncations if t["server_side"]]  # the model yielded

    call = e2e.finished_call(report.call_sid)
    assert call.status == CallStatus.COMPLETED
    assert call.end_reason == EndReason.CALLER_HUNG_UP
    assert call.error == ""
    assert call.assistant_snapshot["engine"] == "openai-live"
    rows = list(call.transcript_entries.order_by("seq"))
    roles = [r.role for r in rows]
    assert roles[:4] + roles[6:] == [
        TranscriptRole.ASSISTANT,  # greeting
        TranscriptRole.CALLER,
        TranscriptRole.ASSISTANT,
        TranscriptRole.CALLER,
        TranscriptRole.ASSISTANT,
    ]
    # The barge-in and the turn it cut off, in the order they were spoken: the
    # caller's start (the engine's, with its padding) may come first.
    assert sorted(roles[4:6]) == [TranscriptRole.ASSISTANT, TranscriptRole.CALLER]
    offsets = [r.offset_ms for r in rows]
    assert offsets == sorted(offsets), offsets
    greeting, first, second, third = [r for r in rows if r.role == "assistant"]
    assert greeting.text == phone_number.assistant.greeting
    assert first.text == DEFAULT_ANSWERS[0] and not first.interrupted
    assert second.interrupted and DEFAULT_ANSWERS[1].startswith(second.text)
    assert third.text == DEFAULT_ANSWERS[2]
    callers = [r.text for r in rows if r.role == "caller"]
    assert callers == list(DEFAULT_CALLER_LINES)
    assert first.reply_latency_ms is not None
    for role in ("caller", "assistant"):
        offsets = [r.offset_ms for r in rows if r.role == role]
        assert offsets == sorted(offsets), (role, offsets)
    # Usage: seconds of session in their own column (no audio tokens), priced per
    # minute.
    assert call.session_seconds >= 3
    assert call.input_audio_tokens == call.output_audio_tokens == 0
    cost = pricing.estimate(
        {"session_seconds": call.session_seconds},
        pricing.Prices.from_settings(settings),
        engine="openai-live",
    )
    assert cost.total_usd == pytest.approx(
        call.session_seconds / 60 * settings.PRICE_LIVE_PER_MINUTE
    )
    assert call.bad_frames == 0


FILLER = "One moment while I check."


def test_a_slow_webhook_tools_filler_is_said_on_gpt_live_too(
    server: ServerProcess, live: LiveSimulatorThread, phone_number: Any
) -> None:
    Assistant.objects.filter(pk=phone_number.assistant_id).update(
        engine="openai-live", model="gpt-live-1.1", voice="vesper"
    )
    tool = WebhookTool.objects.create(
        assistant_id=phone_number.assistant_id,
        name="lookup_order",
        description="Look up an order by its number.",
        url="http://127.0.0.1:1/",
        parameters={"type": "object", "properties": {"order": {"type": "string"}}},
        filler=FILLER,
    )
    config = live.simulator.config
    config.tool_calls = [ScriptedToolCall("lookup_order", '{"order": "A17"}')]
    try:
        # Slower than the acknowledgement and the filler's moment (1.5 s).
        with EchoThread(tool.secret, delay=4.0) as echo:
            WebhookTool.objects.filter(pk=tool.pk).update(url=echo.url)
            script = e2e.quick_script(turns=2)
            report = e2e.run_call(e2e.caller_options(server, script=script))
            assert len(echo.received) == 1
    finally:
        config.tool_calls = []

    call = e2e.finished_call(report.call_sid)
    rows = list(call.transcript_entries.order_by("seq"))
    said = [r.text for r in rows if r.role == TranscriptRole.ASSISTANT]
    assert said.count(FILLER) == 1, said
    # The result (the caller may cut its reading short when they speak on).
    result = next(i for i, text in enumerate(said) if text.startswith("The result"))
    assert said.index(FILLER) < result, said
