"""The GPT-Live simulator over a real socket: handshake, session.start checks,
VAD turns with timed transcript deltas, server-side interruption, usage seconds,
session.close/closed and the faults; and our engine's connection saying
``session.close`` before it closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from calls.engines.base import EngineSettings
from calls.engines.openai_live import OpenAILiveEngine
from calls.engines.openai_live import events as live
from calls.tests.support.gpt_live_client import (
    KEY,
    PERSONA,
    frames,
    open_leg,
    started,
    until,
)
from calls.tooling.simulators import audio
from calls.tooling.simulators.live_server import LiveConfig, LiveSimulator
from calls.tooling.simulators.realtime_server import Faults


@pytest.fixture
async def simulator() -> AsyncIterator[LiveSimulator]:
    sim = LiveSimulator(
        LiveConfig(
            api_key=KEY,
            first_audio_delay_ms=20,
            transcription_delay_ms=10,
            ms_per_char=5,
            realtime_factor=20.0,
            usage_interval_s=0.05,
        )
    )
    await sim.start()
    yield sim
    await sim.stop()


async def test_it_refuses_bad_keys_and_query_strings(simulator: LiveSimulator) -> None:
    with pytest.raises(InvalidStatus) as bad_key:
        await connect(simulator.url, additional_headers={"Authorization": "Bearer x"})
    with pytest.raises(InvalidStatus) as query:
        await connect(
            simulator.url + "?model=gpt-live-1",
            additional_headers={"Authorization": f"Bearer {KEY}"},
        )
    assert bad_key.value.response.status_code == 401
    assert query.value.response.status_code == 400


async def test_it_checks_session_start(simulator: LiveSimulator) -> None:
    ws = await open_leg(simulator)
    await ws.send(live.audio_append(frames(audio.silence(20))[0]))
    await ws.send(
        '{"type":"session.thinking.append","delegation_id":null,"content":"x"}'
    )
    early = await until(ws, "error")
    assert early["error"]["code"] == "invalid_event"
    await ws.send('{"type":"session.start","session":{"model":"m","temperature":1}}')
    unknown = await until(ws, "error")
    assert unknown["error"]["param"] == "session.temperature"
    await ws.send(live.session_start(PERSONA))
    event = await until(ws, "session.started")
    assert event["client_event_id"] == "evt_session_start"
    assert event["session"]["audio"]["format"] == {"type": "audio/pcmu", "rate": 8000}
    assert simulator.connections[-1].warnings == [
        "input audio outside the session",
        "session.thinking.append before session.started",
    ]
    await ws.close()


async def test_it_greets_answers_interrupts_and_reports_usage(
    simulator: LiveSimulator,
) -> None:
    ws = await started(simulator)
    await ws.send(
        live.instructions_append("Greet the caller by saying: Hi!", event_id="g")
    )
    ack = await until(ws, "session.instructions.appended")
    assert ack["client_event_id"] == "g"
    said = await until(ws, "session.output_transcript.delta")
    assert said["delta"] == "Hi!"
    await asyncio.sleep(0.05)  # the greeting plays out (200 ms at 20x)
    speech = frames(audio.speech_like(800)) + frames(audio.silence(700))
    for payload in speech:
        await ws.send(live.audio_append(payload))
    first = await until(ws, "session.input_transcript.delta")
    rest = await until(ws, "session.input_transcript.delta")
    assert first["delta"] + rest["delta"] == simulator.config.caller_lines[0]
    assert first["start_ms"] < first["end_ms"] <= rest["start_ms"] < rest["end_ms"]
    answer = await until(ws, "session.output_transcript.delta")
    assert simulator.config.answers[0].startswith(answer["delta"])
    for payload in frames(audio.speech_like(300)):  # talk over the answer
        await ws.send(live.audio_append(payload))
    await until(ws, "session.input_transcript.delta")
    record = simulator.connections[-1]
    assert [t["server_side"] for t in record.truncations] == [True]
    usage = await until(ws, "session.usage.updated")
    assert usage["usage"]["seconds"] >= 1
    await ws.send(live.session_close())
    closed = await until(ws, "session.closed")
    assert closed["reason"] == "close_requested"
    assert closed["usage"]["seconds"] >= 1
    await ws.wait_closed()
    assert ws.close_code == 1000


async def test_it_expires_and_drops_on_request(simulator: LiveSimulator) -> None:
    simulator.config.faults = Faults(expire_after_s=0.1)
    ws = await started(simulator)
    closed = await until(ws, "session.closed")
    assert closed["reason"] == "expired"
    simulator.config.faults = Faults(drop_after_s=0.1)
    ws = await started(simulator)
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(3):
            while True:  # read: audio keeps coming until the cut
                await ws.recv()
    assert ws.close_code == 1006
    simulator.config.faults = Faults(reject_session_update=True)
    ws = await open_leg(simulator)
    await ws.send(live.session_start(PERSONA))
    refused = await until(ws, "error")
    assert refused["error"]["client_event_id"] == "evt_session_start"


async def test_our_connection_closes_the_session_first(
    simulator: LiveSimulator,
) -> None:
    engine = OpenAILiveEngine(
        EngineSettings(api_key=KEY, url=simulator.url, ws_client="websockets")
    )
    target = engine.target(PERSONA)
    assert target.headers == {"Authorization": f"Bearer {KEY}"}
    leg = await engine.connect(target.url, headers=target.headers, open_timeout=5)
    for text in engine.protocol(PERSONA).configure():
        await leg.send(text)
    await asyncio.sleep(0.1)
    await leg.close()
    record = simulator.connections[-1]
    assert await asyncio.to_thread(record.closed.wait, 3)
    assert [e["type"] for e in record.events] == ["session.start", "session.close"]
    assert record.sent_of("session.closed")[0]["reason"] == "close_requested"


def test_it_needs_a_key() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAILiveEngine(EngineSettings()).target(PERSONA)
