"""Scripted function calls of the Realtime simulator (``--tool-call``).

A caller turn is answered by a ``function_call`` item in GA events (validated
against the openai SDK's server-event union); the ``function_call_output`` the
client sends back is spoken by the next ``response.create``. The GPT-Live
simulator delegates the same scripted call to its backend instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import Field, TypeAdapter

from calls.engines.openai_live import events as live_events
from calls.tests.support import gpt_live_client
from calls.tests.support.realtime_client import (
    ServerEvents,
    configure,
    open_session,
    recv_until,
    send_audio,
    types,
)
from calls.tooling.simulators import audio
from calls.tooling.simulators.live_server import LiveConfig, LiveSimulator
from calls.tooling.simulators.realtime_server import RealtimeSimulator
from calls.tooling.simulators.realtime_server.config import (
    add_arguments,
    config_from_options,
)
from calls.tooling.simulators.realtime_server.tool_script import (
    ScriptedToolCall,
    parse_tool_call,
)

ResponseEvents = TypeAdapter(
    Annotated[ResponseStreamEvent, Field(discriminator="type")]
)
ARGS = '{"order_id":"A17"}'
TURN = audio.silence(400) + audio.speech_like(1000) + audio.silence(400)


def simulator(**overrides: Any) -> RealtimeSimulator:
    settings: dict[str, Any] = {
        "first_audio_delay_ms": 20,
        "transcription_delay_ms": 10,
        "realtime_factor": 0,
        "ms_per_char": 5,
        "tool_calls": [ScriptedToolCall("lookup_order", ARGS, after_turn=1)],
    }
    return RealtimeSimulator(**(settings | overrides))


async def test_it_answers_the_scripted_turn_with_a_function_call() -> None:
    sim = simulator()
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(ws, TURN)
        events = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()
    for event in events:
        ServerEvents.validate_python(event)
    seen = types(events)
    assert "response.output_audio.delta" not in [e["type"] for e in events]
    by_type = {e["type"]: e for e in events}
    added = by_type["response.output_item.added"]["item"]
    assert added["type"] == "function_call"
    assert added["name"] == "lookup_order"
    done = by_type["response.function_call_arguments.done"]
    assert done["arguments"] == ARGS
    assert done["call_id"] == added["call_id"]
    deltas = [
        e["delta"]
        for e in events
        if e["type"] == "response.function_call_arguments.delta"
    ]
    assert "".join(deltas) == ARGS
    assert seen.index("response.output_item.done") < seen.index("response.done")
    final = by_type["response.done"]["response"]
    assert final["status"] == "completed"
    assert [
        (i["type"], i["name"], i["call_id"], i["arguments"]) for i in final["output"]
    ] == [("function_call", "lookup_order", done["call_id"], ARGS)]
    assert sim.connections[0].tool_calls[0]["call_id"] == done["call_id"]
    assert sim.connections[0].answers == []  # nothing spoken for this turn


async def test_it_speaks_the_tool_output_back_after_response_create() -> None:
    sim = simulator()
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(ws, TURN)
        events = await recv_until(ws, "response.done")
        call_id = events[-1]["response"]["output"][0]["call_id"]
        output = '{"status": "shipped", "eta": "Tuesday"}'
        item = {"type": "function_call_output", "call_id": call_id, "output": output}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        added = (await recv_until(ws, "conversation.item.done"))[-1]
        assert added["item"]["type"] == "function_call_output"
        await ws.send(json.dumps({"type": "response.create"}))
        answer = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()
    for event in answer:
        ServerEvents.validate_python(event)
    spoken = next(
        e for e in answer if e["type"] == "response.output_audio_transcript.done"
    )["transcript"]
    assert spoken == f"The result is: {output}"
    assert any(e["type"] == "response.output_audio.delta" for e in answer)
    record = sim.connections[0]
    assert record.tool_outputs == [{"call_id": call_id, "output": output}]
    assert record.warnings == []


async def test_it_refuses_response_create_while_the_call_is_active() -> None:
    sim = simulator(first_audio_delay_ms=400)
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(ws, TURN)
        await recv_until(ws, "response.created")
        await ws.send(json.dumps({"type": "response.create", "event_id": "ev_2"}))
        events = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()
    errors = [e["error"] for e in events if e["type"] == "error"]
    assert [(e["type"], e["code"], e["event_id"]) for e in errors] == [
        (
            "invalid_request_error",
            "conversation_already_has_active_response",
            "ev_2",
        )
    ]
    # The function call still completes.
    assert events[-1]["response"]["output"][0]["type"] == "function_call"


async def test_it_answers_other_turns_with_speech() -> None:
    sim = simulator(tool_calls=[ScriptedToolCall("lookup_order", ARGS, after_turn=2)])
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(ws, TURN)
        first = await recv_until(ws, "response.done")
        await send_audio(ws, TURN)
        second = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()
    assert first[-1]["response"]["output"][0]["type"] == "message"
    assert second[-1]["response"]["output"][0]["type"] == "function_call"


def test_it_parses_tool_call_flags() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = vars(
        parser.parse_args(
            [
                "--tool-call",
                'lookup_order:{"order_id":"A17"}',
                "--tool-call",
                "opening_hours",
                "--tool-call-after",
                "2",
            ]
        )
    )
    assert config_from_options(options).tool_calls == [
        ScriptedToolCall("lookup_order", '{"order_id":"A17"}', after_turn=2),
        ScriptedToolCall("opening_hours", "{}", after_turn=3),
    ]
    defaults = config_from_options(vars(parser.parse_args([])))
    assert defaults.tool_calls == []


@pytest.mark.parametrize("spec", [":{}", "lookup:{not json", "lookup:[1]"])
def test_it_refuses_bad_tool_call_specs(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError):
        parse_tool_call(spec)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):  # a usage error on the command line
        parser.parse_args(["--tool-call", spec])
    assert "argument --tool-call" in capsys.readouterr().err


async def test_gpt_live_delegates_the_scripted_turn_and_says_the_output() -> None:
    sim = LiveSimulator(
        LiveConfig(
            api_key=gpt_live_client.KEY,
            first_audio_delay_ms=20,
            transcription_delay_ms=10,
            ms_per_char=5,
            realtime_factor=20.0,
            usage_interval_s=0,
            stream_silence=False,
            tool_calls=[ScriptedToolCall("lookup_order", ARGS, after_turn=1)],
        )
    )
    await sim.start()
    try:
        ws = await gpt_live_client.started(sim)
        speech = gpt_live_client.frames(audio.speech_like(800) + audio.silence(700))
        for payload in speech:
            await ws.send(live_events.audio_append(payload))
        created = await gpt_live_client.until(ws, "session.delegation.created")
        nested: list[dict[str, Any]] = []
        spoken = ""

        async def read_until(done: Callable[[], bool]) -> None:
            nonlocal spoken
            async with asyncio.timeout(5):
                while not done():
                    event = json.loads(await ws.recv())
                    if event["type"] == "session.output_transcript.delta":
                        spoken += event["delta"]
                    elif event["type"] == "response.event":
                        assert event["delegation_id"] == created["delegation"]["id"]
                        nested.append(event["event"])

        await read_until(lambda: len(nested) == 6)
        call = next(e for e in nested if e["type"] == "response.output_item.done")
        output = '{"status":"shipped"}'
        await ws.send(live_events.function_call_output(call["item"]["call_id"], output))
        await ws.send(live_events.response_create(event_id="cont_1"))
        await read_until(lambda: output in spoken)
        await ws.close()
    finally:
        await sim.stop()
    for event in nested:
        ResponseEvents.validate_python(event)
    assert [e["type"] for e in nested[:6]] == [
        "response.created",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    item = call["item"]
    assert (item["name"], item["arguments"], item["status"]) == (
        "lookup_order",
        ARGS,
        "completed",
    )
    # The continuation: the backend's text, under the same delegation.
    assert [e["type"] for e in nested[6:]] == [
        "response.created",
        "response.output_text.delta",
        "response.completed",
    ]
    assert nested[7]["delta"] == f"The result is: {output}"
    assert spoken.startswith("Let me check that for you.")
    assert spoken.endswith(f"The result is: {output}")
    record = sim.connections[0]
    assert record.tool_outputs == [{"call_id": item["call_id"], "output": output}]
    assert record.warnings == []


async def test_it_keeps_the_output_for_after_a_quoted_filler() -> None:
    sim = simulator()
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(ws, TURN)
        call_id = (await recv_until(ws, "response.done"))[-1]["response"]["output"][0][
            "call_id"
        ]
        item = {"type": "function_call_output", "call_id": call_id, "output": "42"}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        filler = {"instructions": "Say: 'One moment while I check.'"}
        await ws.send(json.dumps({"type": "response.create", "response": filler}))
        first = await recv_until(ws, "response.done")
        await ws.send(json.dumps({"type": "response.create"}))
        second = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()

    def said(events: list[dict[str, Any]]) -> str:
        return str(events[-1]["response"]["output"][0]["content"][0]["transcript"])

    assert said(first) == "One moment while I check."
    assert said(second) == "The result is: 42"
