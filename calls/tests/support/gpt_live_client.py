"""A client of the GPT-Live simulator for tests: open a leg with the key, start a
session, read events up to one type, cut audio into frames."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from calls.engines.openai_live import events as live
from calls.tests.support.live_frames import live_snapshot
from calls.tooling.simulators import audio
from calls.tooling.simulators.live_server import LiveSimulator
from calls.vocabulary.persona import Persona

KEY = "sk-live-sim"
PERSONA = Persona.from_snapshot(live_snapshot(greeting="Hello there!"))


async def open_leg(sim: LiveSimulator, **kwargs: Any) -> ClientConnection:
    return await connect(
        sim.url, additional_headers={"Authorization": f"Bearer {KEY}"}, **kwargs
    )


async def until(ws: ClientConnection, kind: str, wait_s: float = 3.0) -> dict[str, Any]:
    async with asyncio.timeout(wait_s):
        while True:
            event: dict[str, Any] = json.loads(await ws.recv())
            if event["type"] == kind:
                return event


async def started(sim: LiveSimulator) -> ClientConnection:
    ws = await open_leg(sim)
    await ws.send(live.session_start(PERSONA))
    await until(ws, "session.started")
    return ws


def frames(data: bytes) -> list[str]:
    return [base64.b64encode(f).decode() for f in audio.frames(data)]
