"""OpenAI GPT-Live client events: names and builders. No Django.

Every client event we send is a constant here and each builder returns the JSON
text for the wire. The session is set once, by ``session.start`` (GPT-Live freezes
model, voice, instructions and audio format at start); context goes in later with
the ``session.*.append`` events (``delegation_id`` is a required key, ``null``
under Responses delegation).

Reference: ../shared/reference/gpt-live.md (checked against openai 3.57.0).
"""

from __future__ import annotations

from typing import Any

import orjson

from assistants.persona import Persona

SESSION_START = "session.start"
INPUT_AUDIO_APPEND = "session.input_audio.append"
INSTRUCTIONS_APPEND = "session.instructions.append"
THINKING_APPEND = "session.thinking.append"
RESPONSE_ITEM_CREATE = "response.item.create"
RESPONSE_CREATE = "response.create"
SESSION_CLOSE = "session.close"

# Errors and acks echo our event_id as client_event_id.
SESSION_START_EVENT_ID = "evt_session_start"
SESSION_CLOSE_EVENT_ID = "evt_session_close"
# Our requests carry "evt_<tag>" so an error can say which one it refused.
REQUEST_EVENT_PREFIX = "evt_"
# G.711 mu-law at 8 kHz both ways: Twilio's format, no transcoding. ``rate`` is
# required by GPT-Live (unlike the Realtime API).
AUDIO_FORMAT: dict[str, Any] = {"type": "audio/pcmu", "rate": 8000}

# Appended to "speak now" instructions: GPT-Live decides turns itself, so the
# greeting is an instruction that says not to wait (reference §4.1).
SPEAK_NOW = " Do it now: do not wait for the caller to speak first."


def session_config(persona: Persona) -> dict[str, Any]:
    """The ``session`` object of ``session.start`` for a persona.

    No tools exist yet, so the backend delegation carries an empty tool list.
    """
    responses: dict[str, Any] = {
        "model": persona.backend_model,
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
    }
    if persona.backend_instructions:
        responses["instructions"] = persona.backend_instructions
    audio: dict[str, Any] = {"format": dict(AUDIO_FORMAT)}
    if persona.voice:
        audio["output"] = {"voice": persona.voice}
    session: dict[str, Any] = {
        "model": persona.model,
        "audio": audio,
        "delegation": {"type": "responses", "responses": responses},
    }
    if persona.instructions:
        session["instructions"] = persona.instructions
    return session


def session_start(persona: Persona) -> str:
    return _dumps(
        {
            "type": SESSION_START,
            "event_id": SESSION_START_EVENT_ID,
            "session": session_config(persona),
        }
    )


def audio_append(payload: str, *, json_safe: bool = False) -> str:
    """Caller audio, Twilio's base64 mu-law as is (hot path: 50 a second)."""
    if json_safe:
        return '{"type":"session.input_audio.append","audio":"' + payload + '"}'
    return _dumps({"type": INPUT_AUDIO_APPEND, "audio": payload})


def instructions_append(content: str, *, event_id: str) -> str:
    """Behaviour for the voice model from now on (may interrupt its speech)."""
    return _dumps(
        {
            "type": INSTRUCTIONS_APPEND,
            "event_id": event_id,
            "delegation_id": None,
            "content": content,
        }
    )


def thinking_append(content: str, *, event_id: str | None = None) -> str:
    """Silent context for the voice model (not a secrecy boundary)."""
    event: dict[str, Any] = {
        "type": THINKING_APPEND,
        "delegation_id": None,
        "content": content,
    }
    if event_id is not None:
        event["event_id"] = event_id
    return _dumps(event)


def function_call_output(call_id: str, output: str) -> str:
    """A tool's result for the backend (then one ``response_create``)."""
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    return _dumps({"type": RESPONSE_ITEM_CREATE, "item": item})


def response_create(*, event_id: str | None = None) -> str:
    """Continue the backend's work (after every pending tool output is in)."""
    event: dict[str, Any] = {"type": RESPONSE_CREATE}
    if event_id is not None:
        event["event_id"] = event_id
    return _dumps(event)


def session_close() -> str:
    return _dumps({"type": SESSION_CLOSE, "event_id": SESSION_CLOSE_EVENT_ID})


def _dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()
