"""What the simulate and demo commands print and do matches the call pages."""

from __future__ import annotations

import io
from typing import Any

from assistants.models import Assistant
from calls.models import TranscriptEntry
from calls.tests.support.review_helpers import make_call
from calls.tooling.management.commands.demo_call import (
    DEMO_ASSISTANTS,
    ensure_demo_assistant,
)
from calls.tooling.management.commands.simulate_call import print_call, with_stay_on
from calls.tooling.simulators.twilio_caller import HangUp, Pause, default_script


def printed(call: Any) -> str:
    out = io.StringIO()
    print_call(call, out)
    return out.getvalue()


def test_turns_are_counted_as_on_the_call_page_and_tool_rows_named(
    assistant: Any,
) -> None:
    call = make_call(assistant=assistant)
    rows = [
        ("caller", "Where is my order?", {}),
        (
            "tool",
            '{"status": "shipped"}',
            {"tool_name": "lookup_order", "tool_arguments": '{"id": "A1"}'},
        ),
        ("assistant", "It has shipped.", {}),
    ]
    for seq, (role, text, extra) in enumerate(rows, start=1):
        TranscriptEntry.objects.create(
            call=call, seq=seq, role=role, text=text, **extra
        )

    shown = printed(call)

    assert "turns 2 (caller and assistant)" in shown
    assert 'lookup_order({"id": "A1"}) -> {"status": "shipped"}' in shown


def test_a_realtime_call_prints_no_session_time(assistant: Any) -> None:
    assert "session" not in printed(make_call(assistant=assistant))


def test_the_gpt_live_demo_leaves_the_realtime_demo_assistant_alone(db: Any) -> None:
    ensure_demo_assistant("openai-realtime")
    ensure_demo_assistant("openai-live")
    realtime_name, realtime_number = DEMO_ASSISTANTS["openai-realtime"]
    live_name, _ = DEMO_ASSISTANTS["openai-live"]
    realtime = Assistant.objects.get(name=realtime_name)
    assert realtime.engine == "openai-realtime"
    assert realtime.phone_numbers.get().number == realtime_number
    assert Assistant.objects.get(name=live_name).engine == "openai-live"


def test_stay_on_waits_silently_before_the_hang_up() -> None:
    script = with_stay_on(default_script(turns=1), 40)
    assert script[-2:] == [Pause(40_000), HangUp()]
    assert with_stay_on(default_script(turns=1), 0) == default_script(turns=1)
