"""A tiny driver for CallState in pure tests: feed frames, keep the actions."""

from __future__ import annotations

import json
from typing import Any

from calls.callstate import CallState, SendEngine, SendTwilio
from calls.callstate.actions import Action
from calls.engines.openai_realtime import RealtimeProtocol
from calls.tests.support.frames import (
    CALL_SID,
    rt_session_updated,
    tw_connected,
    tw_start,
)
from calls.vocabulary.persona import Persona

SNAPSHOT: dict[str, Any] = {
    "assistant_id": 1,
    "name": "Front desk",
    "instructions": "You answer the phone for ACME Dental. Be brief.",
    "greeting": "",
    "voice": "marin",
    "model": "gpt-realtime-2.1",
    "temperature": 0.8,
    "turn_detection": "server_vad",
    "vad_threshold": 0.5,
    "vad_prefix_padding_ms": 300,
    "vad_silence_duration_ms": 500,
    "vad_eagerness": "auto",
    "transcription_model": "gpt-4o-mini-transcribe",
    "transcription_language": "",
    "max_call_duration_seconds": 1800,
}


def snapshot(**changes: Any) -> dict[str, Any]:
    return {**SNAPSHOT, **changes}


def persona(**changes: Any) -> Persona:
    return Persona.from_snapshot(snapshot(**changes))


class Harness:
    """Drives one bridge; ``now`` advances only when a test says so."""

    def __init__(self, snap: dict[str, Any] | None = None, **kwargs: Any) -> None:
        persona = Persona.from_snapshot(snap or snapshot())
        self.state = CallState(
            call_sid=CALL_SID,
            persona=persona,
            protocol=RealtimeProtocol(persona),
            **kwargs,
        )
        self.now = 0
        self.log: list[Action] = []

    def _keep(self, actions: list[Action]) -> list[Action]:
        self.log += actions
        return actions

    def tw(self, text: str, at: int | None = None) -> list[Action]:
        self.now = self.now if at is None else at
        return self._keep(self.state.on_twilio_text(text, self.now))

    def rt(self, text: str, at: int | None = None) -> list[Action]:
        self.now = self.now if at is None else at
        return self._keep(self.state.on_engine_text(text, self.now))

    def open(self) -> list[Action]:
        return self._keep(self.state.on_engine_open(self.now))

    def timer(self, name: str) -> list[Action]:
        return self._keep(self.state.on_timer(name, self.now))

    def ready(self) -> Harness:
        """Connected, started, leg open, session confirmed."""
        self.tw(tw_connected())
        self.tw(tw_start())
        self.open()
        self.rt(rt_session_updated())
        return self


def twilio_out(actions: list[Action]) -> list[dict[str, Any]]:
    return [json.loads(x.text) for x in actions if isinstance(x, SendTwilio)]


def realtime_out(actions: list[Action]) -> list[dict[str, Any]]:
    return [json.loads(x.text) for x in actions if isinstance(x, SendEngine)]


def of_type(actions: list[Action], cls: type) -> list[Any]:
    return [x for x in actions if isinstance(x, cls)]


def marks(actions: list[Action]) -> list[str]:
    return [f["mark"]["name"] for f in twilio_out(actions) if f["event"] == "mark"]
