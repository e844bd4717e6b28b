"""The Realtime API simulator, driven by a plain websockets client.

Every event the simulator sends in a conversation is validated against the
openai SDK's GA server-event union, so the stand-in cannot drift from the real
protocol unnoticed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from calls.tests.support.realtime_client import (
    GA_SESSION,
    ServerEvents,
    configure,
    open_session,
    recv_until,
    send_audio,
    types,
)
from calls.tooling.simulators import audio
from calls.tooling.simulators.realtime_server import RealtimeSimulator


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    simulator = RealtimeSimulator(
        first_audio_delay_ms=20,
        transcription_delay_ms=10,
        realtime_factor=0,
        ms_per_char=20,
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_it_refuses_a_wrong_key_with_http_401() -> None:
    simulator = RealtimeSimulator(api_key="right")
    await simulator.start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                simulator.url, additional_headers={"Authorization": "Bearer no"}
            )
        assert refused.value.response.status_code == 401
        assert b"invalid_api_key" in refused.value.response.body
        with pytest.raises(InvalidStatus):
            await connect(simulator.url)  # no key at all
        ws = await open_session(simulator, {"api-key": "right"})
        await ws.close()
        assert simulator.rejected_handshakes == 2
        assert [c.auth_header for c in simulator.connections] == ["api-key"]
    finally:
        await simulator.stop()


async def test_it_rejects_all_keys_when_told_to_at_runtime(
    sim: RealtimeSimulator,
) -> None:
    sim.faults.reject_all_keys = True
    with pytest.raises(InvalidStatus) as refused:
        await connect(sim.url, additional_headers={"Authorization": "Bearer sk"})
    assert refused.value.response.status_code == 401
    assert sim.connections == []


async def test_it_closes_beta_clients_with_4000(sim: RealtimeSimulator) -> None:
    ws = await connect(
        sim.url,
        additional_headers={"Authorization": "Bearer k", "OpenAI-Beta": "realtime=v1"},
    )
    error = json.loads(await ws.recv())
    assert error["error"]["code"] == "beta_api_shape_disabled"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4000


async def test_it_refuses_beta_session_fields_and_keeps_its_defaults(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    for field in ("temperature", "modalities", "input_audio_format", "voice"):
        bad = {"type": "realtime", field: "x"}
        await ws.send(json.dumps({"type": "session.update", "session": bad}))
        error = (await recv_until(ws, "error"))[-1]["error"]
        assert error["code"] == "unknown_parameter"
        assert error["param"] == f"session.{field}"
    await ws.send(json.dumps({"type": "session.update", "session": {"voice": "x"}}))
    assert (await recv_until(ws, "error"))[-1]["error"]["param"] == "session.type"
    await ws.close()
    record = sim.connections[0]
    assert record.session["audio"]["input"]["format"]["type"] == "audio/pcm"
    assert record.error_codes[-1] == "missing_required_parameter"
    assert record.model == "gpt-realtime-2.1"


async def test_it_echoes_a_merged_ga_session(sim: RealtimeSimulator) -> None:
    ws = await open_session(sim)
    await configure(ws)
    await ws.send(
        json.dumps(
            {
                "type": "session.update",
                "session": {"type": "realtime", "instructions": "New."},
            }
        )
    )
    session = (await recv_until(ws, "session.updated"))[-1]["session"]
    await ws.close()
    assert session["instructions"] == "New."
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 300
    assert sim.connections[0].received("session.update")[0]["session"] == GA_SESSION


async def test_it_greets_with_the_quoted_text_in_ga_shaped_events(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    await configure(ws)
    instructions = "Greet the caller: 'Thanks for calling ACME, how can I help?'"
    await ws.send(
        json.dumps(
            {"type": "response.create", "response": {"instructions": instructions}}
        )
    )
    events = await recv_until(ws, "response.done")
    await ws.close()
    for event in events:
        ServerEvents.validate_python(event)
    assert types(events) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        *["response.output_audio_transcript.delta"] * 8,
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0]["transcript"] == (
        "Thanks for calling ACME, how can I help?"
    )
    usage = done["usage"]
    assert usage["input_tokens"] == (
        usage["input_token_details"]["text_tokens"]
        + usage["input_token_details"]["audio_tokens"]
    )
    assert usage["output_token_details"]["audio_tokens"] > 0
    deltas = [e for e in events if e["type"] == "response.output_audio.delta"]
    audio_bytes = sum(len(base64.b64decode(e["delta"])) for e in deltas)
    assert audio_bytes == 40 * 20 * 8  # 40 characters at 20 ms each


async def test_it_greets_with_the_text_after_saying(sim: RealtimeSimulator) -> None:
    ws = await open_session(sim)
    await configure(ws)
    instructions = "Greet the caller by saying: Hello from ACME!"
    await ws.send(
        json.dumps(
            {"type": "response.create", "response": {"instructions": instructions}}
        )
    )
    done = (await recv_until(ws, "response.done"))[-1]
    await ws.close()
    assert (
        done["response"]["output"][0]["content"][0]["transcript"] == "Hello from ACME!"
    )


async def test_it_detects_a_turn_transcribes_it_and_answers(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    await configure(ws)
    await send_audio(
        ws, audio.silence(400) + audio.speech_like(1000) + audio.silence(400)
    )
    events = await recv_until(ws, "response.done")
    if "conversation.item.input_audio_transcription.completed" not in types(events):
        events += await recv_until(
            ws, "conversation.item.input_audio_transcription.completed"
        )
    await ws.close()
    for event in events:
        ServerEvents.validate_python(event)
    by_type = {e["type"]: e for e in events}
    started = by_type["input_audio_buffer.speech_started"]
    stopped = by_type["input_audio_buffer.speech_stopped"]
    assert started["audio_start_ms"] == 100  # 400 ms of silence minus 300 padding
    assert stopped["audio_end_ms"] == 400 + 1000 + 300
    assert started["item_id"] == stopped["item_id"]
    assert by_type["input_audio_buffer.committed"]["item_id"] == started["item_id"]
    transcript = by_type["conversation.item.input_audio_transcription.completed"]
    assert transcript["transcript"] == "Hi, I'd like to book an appointment."
    answer = by_type["response.output_audio_transcript.done"]["transcript"]
    assert answer == sim.config.answers[0]
    assert sim.connections[0].appends == 90


async def test_it_cancels_an_answer_when_the_caller_barges_in() -> None:
    simulator = RealtimeSimulator(first_audio_delay_ms=10, realtime_factor=1.0)
    await simulator.start()
    try:
        ws = await open_session(simulator)
        await configure(ws)
        await ws.send(json.dumps({"type": "response.create"}))
        events = await recv_until(ws, "response.output_audio.delta")
        item_id = events[-1]["item_id"]
        await asyncio.sleep(0.25)
        await send_audio(ws, audio.speech_like(200))
        events = await recv_until(ws, "response.done")
        done = events[-1]["response"]
        assert "input_audio_buffer.speech_started" in types(events)
        assert done["status"] == "cancelled"
        assert done["status_details"]["reason"] == "turn_detected"
        partial = done["output"][0]["content"][0]["transcript"]
        assert simulator.config.greeting.startswith(partial)
        assert partial != simulator.config.greeting
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": 100,
                }
            )
        )
        truncated = (await recv_until(ws, "conversation.item.truncated"))[-1]
        assert truncated["audio_end_ms"] == 100
        await ws.close()
        truncation = simulator.connections[0].truncations[0]
        assert truncation["accepted"] is True
        assert 100 <= truncation["audio_ms"] < 3000
    finally:
        await simulator.stop()


async def test_it_refuses_a_truncation_past_the_audio_it_sent(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    await configure(ws)
    await ws.send(json.dumps({"type": "response.create"}))
    events = await recv_until(ws, "response.done")
    item_id = events[-1]["response"]["output"][0]["id"]
    truncate = {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
    }
    await ws.send(json.dumps({**truncate, "audio_end_ms": 999_999, "event_id": "c1"}))
    error = (await recv_until(ws, "error"))[-1]["error"]
    assert error["code"] == "invalid_value"
    assert error["event_id"] == "c1"
    await ws.send(json.dumps({**truncate, "item_id": "item_nope", "audio_end_ms": 1}))
    assert (await recv_until(ws, "error"))[-1]["error"]["code"] == "invalid_value"
    await ws.close()
    assert [t["accepted"] for t in sim.connections[0].truncations] == [False, False]


async def test_it_reports_cancel_without_a_response_and_double_responses(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    await configure(ws)
    await ws.send(json.dumps({"type": "response.cancel"}))
    assert (await recv_until(ws, "error"))[-1]["error"][
        "code"
    ] == "response_cancel_not_active"
    await ws.send(json.dumps({"type": "response.create"}))
    await ws.send(json.dumps({"type": "response.create"}))
    error = (await recv_until(ws, "error"))[-1]["error"]
    assert error["code"] == "conversation_already_has_active_response"
    await ws.send(json.dumps({"type": "response.cancel"}))
    done = (await recv_until(ws, "response.done"))[-1]["response"]
    await ws.close()
    assert done["status_details"]["reason"] in ("client_cancelled", None)


async def test_it_answers_unknown_events_and_bad_json_with_errors(
    sim: RealtimeSimulator,
) -> None:
    ws = await open_session(sim)
    await ws.send("{not json")
    assert (await recv_until(ws, "error"))[-1]["error"]["code"] == "invalid_json"
    await ws.send(json.dumps({"type": "response.audio.delta"}))
    assert (await recv_until(ws, "error"))[-1]["error"]["param"] == "type"
    await ws.close()


async def test_it_echoes_every_frame_in_echo_mode() -> None:
    simulator = RealtimeSimulator(mode="echo")
    await simulator.start()
    try:
        ws = await open_session(simulator)
        await configure(ws)
        payloads = []
        for i in range(20):
            frame = audio.tag_frame(audio.speech_frame(i), stream_id=1, counter=i)
            payloads.append(base64.b64encode(frame).decode())
            await ws.send(
                json.dumps({"type": "input_audio_buffer.append", "audio": payloads[-1]})
            )
        events = await recv_until(ws, "conversation.item.added")
        deltas: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while len(deltas) < 20:
                event = json.loads(await ws.recv())
                ServerEvents.validate_python(event)
                deltas.append(event)
        await ws.close()
        assert types(events)[:2] == ["response.created", "response.output_item.added"]
        assert [d["delta"] for d in deltas] == payloads
        assert len({d["item_id"] for d in deltas}) == 1
        record = simulator.connections[0]
        assert record.appends == record.deltas_sent == 20
        assert record.received("input_audio_buffer.append") == []  # not recorded
    finally:
        await simulator.stop()


async def test_it_delays_session_created_when_slow(sim: RealtimeSimulator) -> None:
    sim.faults.slow_start_ms = 300
    loop = asyncio.get_running_loop()
    started = loop.time()
    ws = await open_session(sim)
    await ws.close()
    assert loop.time() - started >= 0.3


async def test_it_expires_a_session_with_an_error_and_1001(
    sim: RealtimeSimulator,
) -> None:
    sim.faults.expire_after_s = 0.2
    ws = await open_session(sim)
    error = (await recv_until(ws, "error"))[-1]["error"]
    assert error["code"] == "session_expired"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1001
    assert "maximum duration" in (ws.close_reason or "")


async def test_it_drops_a_connection_without_a_close_frame(
    sim: RealtimeSimulator,
) -> None:
    sim.faults.drop_after_s = 0.1
    ws = await open_session(sim)
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1006  # abnormal closure: no close frame
    assert sim.connections[0].closed.wait(2)


async def test_it_drops_all_connections_on_request(sim: RealtimeSimulator) -> None:
    ws = await open_session(sim)
    assert await sim.drop_all() == 1
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1006


async def test_it_rejects_session_updates_when_told_to(sim: RealtimeSimulator) -> None:
    sim.faults.reject_session_update = True
    ws = await open_session(sim)
    await ws.send(json.dumps({"type": "session.update", "session": GA_SESSION}))
    assert (await recv_until(ws, "error"))[-1]["error"]["code"] == "invalid_value"
    await ws.close()
    assert sim.connections[0].sent_of("session.updated") == []


def test_it_imports_no_django() -> None:
    modules = [
        "calls.tooling.simulators.audio",
        "calls.tooling.simulators.local_server",
        "calls.tooling.simulators.realtime_server",
        "calls.tooling.simulators.realtime_server.__main__",
        "calls.tooling.simulators.twilio_caller",
        "calls.tooling.simulators.tool_echo_server",
    ]
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]: importlib.import_module(name)\n"
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert result.stdout.strip() == "False"
