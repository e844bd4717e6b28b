"""A CallRunner without Channels or a database: a fake Twilio side, the fake engine
leg, and a recorder that keeps a list."""

from __future__ import annotations

import json
from typing import Any

from calls.callstate import CallState, EndCall
from calls.callstate import actions as a
from calls.engines.base import EngineSettings
from calls.engines.openai_realtime import OpenAIRealtimeEngine
from calls.runtime.call_audio import CallAudio
from calls.runtime.runner import CallRunner
from calls.tests.support.frames import (
    CALL_SID,
    rt_session_updated,
    tw_start,
)
from calls.tests.support.frames.fakes import FakeConnector
from calls.vocabulary.persona import Persona


class FakeTwilio:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed_with: list[int | None] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, code: int | None) -> None:
        self.closed_with.append(code)


class ListRecorder:
    def __init__(self) -> None:
        self.writes: list[a.Action] = []
        self.ends: list[EndCall] = []
        self.finished: list[tuple[EndCall, int]] = []
        self.heartbeats = 0

    def start(self) -> None:
        pass

    def put(self, action: Any) -> None:
        self.writes.append(action)

    async def drain(self) -> None:
        pass

    async def heartbeat(self) -> None:
        self.heartbeats += 1

    async def record_end(self, end: EndCall) -> None:
        self.ends.append(end)

    async def finish(self, end: EndCall, bad_frames: int) -> None:
        self.finished.append((end, bad_frames))


def make_runner(
    **kwargs: Any,
) -> tuple[CallRunner, FakeConnector, FakeTwilio, ListRecorder]:
    persona = Persona(greeting="")
    connector = FakeConnector()
    engine = OpenAIRealtimeEngine(
        EngineSettings(api_key="sk-test", url="wss://realtime.test/v1/realtime"),
        connect=connector,
    )
    audio = CallAudio()
    state = CallState(
        call_sid=CALL_SID,
        persona=persona,
        protocol=engine.protocol(persona),
        connect_on_upgrade=True,
        audio=audio,
    )
    twilio, recorder = FakeTwilio(), ListRecorder()
    runner = CallRunner(
        state=state,
        engine=engine,
        twilio=twilio,
        call_log=recorder,
        connect_timeout=3,
        audio=audio,
        **kwargs,
    )
    return runner, connector, twilio, recorder


async def started(runner: CallRunner, connector: FakeConnector) -> None:
    await runner.start()
    await runner.twilio_text(tw_start())
    await connector.leg.wait_for("session.update")
    connector.leg.push(rt_session_updated())
