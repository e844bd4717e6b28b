"""Recorded protocol frames and builders for tests.

The JSON files here are Twilio Media Streams frames and OpenAI Realtime (GA) server
events in their documented shapes (Twilio's "WebSocket Messages" page,
https://www.twilio.com/docs/voice/media-streams/websocket-messages, and OpenAI's
Realtime API reference, https://platform.openai.com/docs/api-reference/realtime);
every ``realtime_*.json`` validates against the openai SDK's GA server-event union
(see calls/tests/unit/test_sdk_events.py). The
builders below start from those recordings and change only the fields a test cares
about, so test traffic stays in the real shape.
"""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CALL_SID = "CA0123456789abcdef0123456789abcdef"
STREAM_SID = "MZ18ad3ab5a668481ce02b83e7395059f0"


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text())
    return loaded


def load(name: str) -> dict[str, Any]:
    """A fresh copy of one recorded frame, e.g. ``load("twilio_start")``."""
    return copy.deepcopy(_load(name))


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data)


def mulaw_b64(nbytes: int, fill: int = 0xFF) -> str:
    """Base64 of ``nbytes`` of mu-law (0xFF is silence); 8 bytes = 1 ms."""
    return base64.b64encode(bytes([fill]) * nbytes).decode()


# -- Twilio -> server ----------------------------------------------------------


def tw_connected() -> str:
    return dumps(load("twilio_connected"))


def tw_start(call_sid: str = CALL_SID, stream_sid: str = STREAM_SID) -> str:
    frame = load("twilio_start")
    frame["streamSid"] = frame["start"]["streamSid"] = stream_sid
    frame["start"]["callSid"] = call_sid
    return dumps(frame)


def tw_media(payload: str | None = None, stream_sid: str = STREAM_SID) -> str:
    frame = load("twilio_media")
    frame["streamSid"] = stream_sid
    if payload is not None:
        frame["media"]["payload"] = payload
    return dumps(frame)


def tw_mark(name: str, stream_sid: str = STREAM_SID) -> str:
    frame = load("twilio_mark")
    frame["streamSid"] = stream_sid
    frame["mark"]["name"] = name
    return dumps(frame)


def tw_dtmf(digit: str = "5", stream_sid: str = STREAM_SID) -> str:
    frame = load("twilio_dtmf")
    frame["streamSid"] = stream_sid
    frame["dtmf"]["digit"] = digit
    return dumps(frame)


def tw_stop(stream_sid: str = STREAM_SID) -> str:
    frame = load("twilio_stop")
    frame["streamSid"] = stream_sid
    return dumps(frame)


# -- Realtime server -> us -----------------------------------------------------


def rt_session_updated(
    voice: str = "marin", in_fmt: str = "audio/pcmu", out_fmt: str = "audio/pcmu"
) -> str:
    event = load("realtime_session_updated")
    audio = event["session"]["audio"]
    audio["input"]["format"]["type"] = in_fmt
    audio["output"]["format"] = (
        {"type": out_fmt, "rate": 24000}
        if out_fmt == "audio/pcm"
        else {"type": out_fmt}
    )
    audio["output"]["voice"] = voice
    return dumps(event)


def rt_speech_started(item_id: str = "item_U1", audio_start_ms: int = 1000) -> str:
    event = load("realtime_speech_started")
    event.update(item_id=item_id, audio_start_ms=audio_start_ms)
    return dumps(event)


def rt_speech_stopped(item_id: str = "item_U1", audio_end_ms: int = 2000) -> str:
    event = load("realtime_speech_stopped")
    event.update(item_id=item_id, audio_end_ms=audio_end_ms)
    return dumps(event)


def rt_committed(item_id: str = "item_U1") -> str:
    event = load("realtime_committed")
    event["item_id"] = item_id
    return dumps(event)


def rt_input_done(item_id: str = "item_U1", transcript: str = "Hello there.") -> str:
    event = load("realtime_input_transcription_completed")
    event.update(item_id=item_id, transcript=transcript)
    return dumps(event)


def rt_input_failed(item_id: str = "item_U2") -> str:
    event = load("realtime_input_transcription_failed")
    event["item_id"] = item_id
    return dumps(event)


def rt_response_created(response_id: str = "resp_1") -> str:
    event = load("realtime_response_created")
    event["response"]["id"] = response_id
    return dumps(event)


def rt_item_added(response_id: str = "resp_1", item_id: str = "item_A1") -> str:
    event = load("realtime_output_item_added")
    event["response_id"] = response_id
    event["item"]["id"] = item_id
    return dumps(event)


def rt_delta(
    response_id: str = "resp_1", item_id: str = "item_A1", nbytes: int = 800
) -> str:
    """An audio delta of ``nbytes`` mu-law bytes (800 = 100 ms)."""
    event = load("realtime_output_audio_delta")
    event.update(response_id=response_id, item_id=item_id, delta=mulaw_b64(nbytes))
    return dumps(event)


def rt_audio_done(response_id: str = "resp_1", item_id: str = "item_A1") -> str:
    event = load("realtime_output_audio_done")
    event.update(response_id=response_id, item_id=item_id)
    return dumps(event)


def rt_transcript_done(
    response_id: str = "resp_1",
    item_id: str = "item_A1",
    transcript: str = "Sure, for how many people?",
) -> str:
    event = load("realtime_output_audio_transcript_done")
    event.update(response_id=response_id, item_id=item_id, transcript=transcript)
    return dumps(event)


def rt_response_done(
    response_id: str = "resp_1",
    status: str = "completed",
    items: tuple[tuple[str, str], ...] = (("item_A1", "Sure, for how many people?"),),
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> str:
    event = load("realtime_response_done")
    response = event["response"]
    template = response["output"][0]
    response.update(id=response_id, status=status)
    response["status_details"] = (
        {"type": "failed", "error": error}
        if error
        else {"type": "cancelled", "reason": "turn_detected"}
        if status == "cancelled"
        else {"type": "completed"}
    )
    response["output"] = [
        {
            **template,
            "id": item_id,
            "status": "completed",
            "content": [{"type": "output_audio", "transcript": text}],
        }
        for item_id, text in items
    ]
    if usage is not None:
        response["usage"] = usage
    return dumps(event)


def rt_error(
    code: str,
    message: str = "boom",
    param: str | None = None,
    event_id: str | None = None,
) -> str:
    event = load("realtime_error_session_expired")
    event["error"].update(code=code, message=message, param=param, event_id=event_id)
    return dumps(event)


def rt_tool_call() -> str:
    return dumps(load("realtime_function_call_arguments_done"))


def rt_other() -> str:
    return dumps(load("realtime_rate_limits_updated"))
