"""A client of the Realtime simulator for tests: open a session, configure it with a
GA session, stream audio, read events up to one type."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Annotated, Any

from openai.types.realtime import RealtimeServerEvent
from pydantic import Field, TypeAdapter
from websockets.asyncio.client import ClientConnection, connect

from calls.tooling.simulators import audio
from calls.tooling.simulators.realtime_server import RealtimeSimulator

ServerEvents = TypeAdapter(Annotated[RealtimeServerEvent, Field(discriminator="type")])
GA_SESSION = {
    "type": "realtime",
    "model": "gpt-realtime-2.1",
    "output_modalities": ["audio"],
    "instructions": "You answer the phone for ACME.",
    "audio": {
        "input": {
            "format": {"type": "audio/pcmu"},
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 300,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
    },
}


async def open_session(
    sim: RealtimeSimulator, headers: dict[str, str] | None = None
) -> ClientConnection:
    ws = await connect(
        sim.url + "?model=gpt-realtime-2.1",
        additional_headers=headers or {"Authorization": "Bearer sk-sim"},
    )
    created = json.loads(await ws.recv())
    assert created["type"] == "session.created"
    return ws


async def recv_until(
    ws: ClientConnection, wanted: str, *, timeout_s: float = 5.0
) -> list[dict[str, Any]]:
    """Events up to and including the first of type ``wanted``."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while True:
            event = json.loads(await ws.recv())
            seen.append(event)
            if event["type"] == wanted:
                return seen


async def configure(ws: ClientConnection, session: dict[str, Any] = GA_SESSION) -> None:
    await ws.send(json.dumps({"type": "session.update", "session": session}))
    updated = (await recv_until(ws, "session.updated"))[-1]
    assert updated["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}


async def send_audio(ws: ClientConnection, data: bytes) -> None:
    for frame in audio.frames(data):
        payload = base64.b64encode(frame).decode()
        await ws.send(
            json.dumps({"type": "input_audio_buffer.append", "audio": payload})
        )


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events if e["type"] != "response.output_audio.delta"]
