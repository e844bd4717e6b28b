"""GPT-Live server messages for tests, and a CallState driver with the Live engine."""

from __future__ import annotations

import base64
import json
from typing import Any

from calls.callstate import CallState
from calls.callstate.actions import Action
from calls.engines.openai_live import NAME as OPENAI_LIVE
from calls.engines.openai_live import LiveProtocol
from calls.tests.support.frames import CALL_SID, tw_connected, tw_start
from calls.tests.support.frames.harness import snapshot
from calls.vocabulary.persona import Persona

SPEECH = base64.b64encode(bytes([0x10, 0x90] * 80)).decode()  # 20 ms, loud
SILENCE = base64.b64encode(b"\xff" * 160).decode()  # 20 ms of mu-law silence


def live_snapshot(**changes: Any) -> dict[str, Any]:
    live = {
        "engine": OPENAI_LIVE,
        "model": "gpt-live-1.1",
        "backend_model": "gpt-5.6-luna",
        "backend_instructions": "Never invent order data.",
    }
    return snapshot(**{**live, **changes})


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def lv_started(voice: str = "marin", rate: int = 8000) -> str:
    return dumps(
        {
            "type": "session.started",
            "event_id": "event_0001",
            "client_event_id": "evt_session_start",
            "session": {
                "id": "sess_live_1",
                "expires_at": 1795003600,
                "model": "gpt-live-1.1",
                "status": "active",
                "audio": {
                    "format": {"type": "audio/pcmu", "rate": rate},
                    "output": {"voice": voice},
                },
            },
        }
    )


def lv_audio(payload: str = SPEECH) -> str:
    return dumps({"type": "session.output_audio.delta", "delta": payload})


def lv_said(text: str, start_ms: int, end_ms: int | None = None) -> str:
    return _transcript("session.output_transcript.delta", text, start_ms, end_ms)


def lv_heard(text: str, start_ms: int, end_ms: int | None = None) -> str:
    return _transcript("session.input_transcript.delta", text, start_ms, end_ms)


def _transcript(kind: str, text: str, start_ms: int, end_ms: int | None) -> str:
    end = start_ms + 200 if end_ms is None else end_ms
    return dumps(
        {
            "type": kind,
            "event_id": f"event_{kind[8:10]}_{start_ms}",
            "delta": text,
            "start_ms": start_ms,
            "end_ms": end,
        }
    )


def lv_usage(seconds: float) -> str:
    return dumps(
        {
            "type": "session.usage.updated",
            "event_id": f"event_usage_{seconds}",
            "usage": {"seconds": seconds},
        }
    )


def lv_closed(reason: str = "close_requested", seconds: float = 12) -> str:
    return dumps(
        {
            "type": "session.closed",
            "event_id": "event_0999",
            "reason": reason,
            "usage": {"seconds": seconds},
            "session": {
                "id": "sess_live_1",
                "expires_at": 1795003600,
                "model": "gpt-live-1.1",
                "status": "active",
            },
        }
    )


def lv_error(code: str, client_event_id: str = "", message: str = "bad") -> str:
    error: dict[str, Any] = {
        "type": "invalid_request_error",
        "code": code,
        "message": message,
    }
    if client_event_id:
        error["client_event_id"] = client_event_id
    return dumps({"type": "error", "event_id": "event_0300", "error": error})


def lv_backend_completed(response_id: str = "resp_B1") -> str:
    usage = {
        "input_tokens": 1510,
        "input_tokens_details": {"cached_tokens": 1280, "cache_write_tokens": 0},
        "output_tokens": 42,
        "output_tokens_details": {"reasoning_tokens": 16},
        "total_tokens": 1552,
    }
    response = {
        "id": response_id,
        "object": "response",
        "created_at": 1795000815,
        "model": "gpt-5.6-luna",
        "status": "completed",
        "output": [],
        "tools": [],
        "instructions": None,
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "usage": usage,
    }
    event = {"type": "response.completed", "sequence_number": 5, "response": response}
    return dumps(
        {
            "type": "response.event",
            "event_id": "event_0205",
            "delegation_id": "item_D1",
            "event": event,
        }
    )


def lv_tool_call(call_id: str = "call_7", name: str = "lookup_order") -> str:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": call_id,
        "name": name,
        "arguments": '{"order_id":"A0042"}',
        "status": "completed",
    }
    event = {
        "type": "response.output_item.done",
        "sequence_number": 4,
        "output_index": 0,
        "item": item,
    }
    return dumps(
        {
            "type": "response.event",
            "event_id": "event_0204",
            "delegation_id": "item_D1",
            "event": event,
        }
    )


class LiveHarness:
    """Drives one CallState on the GPT-Live protocol; time moves when told."""

    def __init__(self, snap: dict[str, Any] | None = None, **kwargs: Any) -> None:
        persona = Persona.from_snapshot(snap or live_snapshot())
        self.protocol = LiveProtocol(persona)
        self.state = CallState(
            call_sid=CALL_SID, persona=persona, protocol=self.protocol, **kwargs
        )
        self.now = 0
        self.log: list[Action] = []

    def _keep(self, actions: list[Action]) -> list[Action]:
        self.log += actions
        return actions

    def tw(self, text: str, at: int | None = None) -> list[Action]:
        self.now = self.now if at is None else at
        return self._keep(self.state.on_twilio_text(text, self.now))

    def lv(self, text: str, at: int | None = None) -> list[Action]:
        self.now = self.now if at is None else at
        return self._keep(self.state.on_engine_text(text, self.now))

    def open(self) -> list[Action]:
        return self._keep(self.state.on_engine_open(self.now))

    def ready(self) -> LiveHarness:
        self.tw(tw_connected())
        self.tw(tw_start())
        self.open()
        self.lv(lv_started())
        return self
