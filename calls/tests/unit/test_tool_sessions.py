"""The persona's functions in each engine's session, validated against the
openai SDK's types (a test-only dependency) like every other client event."""

from __future__ import annotations

import json
from typing import Any

from calls.engines import openai_realtime as realtime
from calls.engines.openai_live import LiveProtocol
from calls.engines.openai_live import events as live
from calls.engines.openai_realtime import RealtimeProtocol
from calls.engines.tools import function_tools
from calls.tests.support.gpt_live_sdk import check_client
from calls.tests.support.live_frames import live_snapshot
from calls.tests.support.realtime_sdk import BETA_KEYS, ClientTA, all_keys
from calls.tests.support.tools import tools_snapshot
from calls.vocabulary.persona import Persona
from calls.vocabulary.tools import Tools


def persona() -> Persona:
    return Persona.from_snapshot(tools_snapshot())


def test_it_defines_the_built_ins_and_webhooks_as_functions() -> None:
    tools = {t["name"]: t for t in function_tools(persona().tools)}
    assert list(tools) == ["end_call", "transfer_call", "handoff", "lookup_order"]
    assert tools["end_call"]["parameters"]["properties"]["reason"]["type"] == "string"
    assert "reason" not in tools["end_call"]["parameters"].get("required", [])
    destination = tools["transfer_call"]["parameters"]["properties"]["destination"]
    assert destination["enum"] == ["billing", "front desk"]
    assert "- billing: Invoices and payments" in tools["transfer_call"]["description"]
    assert tools["transfer_call"]["parameters"]["required"] == ["destination"]
    target = tools["handoff"]["parameters"]["properties"]["assistant"]
    assert target["enum"] == ["Spanish"]
    assert tools["lookup_order"]["parameters"]["required"] == ["order"]
    assert function_tools(Tools()) == []


def test_the_realtime_session_carries_the_tools_and_is_valid_ga() -> None:
    text = realtime.session_update(persona())
    event = ClientTA.validate_json(text)
    assert type(event).__name__ == "SessionUpdateEvent"
    assert event.session.tool_choice == "auto"
    assert [t.name for t in event.session.tools] == [
        "end_call",
        "transfer_call",
        "handoff",
        "lookup_order",
    ]
    assert not all_keys(json.loads(text)["session"]) & BETA_KEYS


def test_a_persona_without_tools_sends_no_tool_keys() -> None:
    session = json.loads(realtime.session_update(Persona()))["session"]
    assert "tools" not in session and "tool_choice" not in session


def test_the_realtime_handoff_update_is_valid_and_keeps_the_voice() -> None:
    (text,) = RealtimeProtocol(Persona()).reconfigure(persona())
    event = ClientTA.validate_json(text)
    assert type(event).__name__ == "SessionUpdateEvent"
    session: dict[str, Any] = json.loads(text)["session"]
    assert set(session) == {"type", "instructions", "tools", "tool_choice"}


def test_gpt_live_delegates_the_tools_to_its_backend_validly() -> None:
    snap = live_snapshot(tools=tools_snapshot()["tools"])
    text = live.session_start(Persona.from_snapshot(snap))
    assert check_client(text) == "SessionStartEvent"
    responses = json.loads(text)["session"]["delegation"]["responses"]
    assert [t["name"] for t in responses["tools"]] == [
        "end_call",
        "transfer_call",
        "handoff",
        "lookup_order",
    ]
    assert responses["tool_choice"] == "auto"
    # The voice model is told what it can delegate.
    instructions = json.loads(text)["session"]["instructions"]
    assert "Backend tools:" in instructions
    assert "- lookup_order: Look up an order by its number." in instructions


def test_the_gpt_live_handoff_updates_the_delegation_and_appends_instructions() -> None:
    snap = live_snapshot(tools=tools_snapshot()["tools"])
    texts = LiveProtocol(Persona.from_snapshot(live_snapshot())).reconfigure(
        Persona.from_snapshot(snap)
    )
    assert [check_client(t) for t in texts] == [
        "SessionUpdateEvent",
        "InstructionsAppendEvent",
    ]
