"""OpenAI GPT-Live client events: names and builders. No Django.

Every client event we send is a constant here and each builder returns the JSON
text for the wire. The session is set once, by ``session.start`` (GPT-Live freezes
model, voice, instructions and audio format at start); context goes in later with
the ``session.*.append`` events (``delegation_id`` is a required key, ``null``
under Responses delegation).

The shapes are those of the ``openai`` SDK's ``openai.types.live`` models (checked
against openai 3.57.0; the tests validate every event sent with them).
"""

from __future__ import annotations

from typing import Any

import orjson

from calls.engines.tools import function_tools
from calls.vocabulary.persona import Persona

SESSION_START = "session.start"
SESSION_UPDATE = "session.update"
INPUT_AUDIO_APPEND = "session.input_audio.append"
INSTRUCTIONS_APPEND = "session.instructions.append"
THINKING_APPEND = "session.thinking.append"
RESPONSE_ITEM_CREATE = "response.item.create"
RESPONSE_CREATE = "response.create"
SESSION_CLOSE = "session.close"

# Errors and acks echo our event_id as client_event_id.
SESSION_START_EVENT_ID = "evt_session_start"
SESSION_CLOSE_EVENT_ID = "evt_session_close"
SESSION_UPDATE_EVENT_ID = "evt_session_update"
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

    The persona's functions go to the backend Responses model (the delegation):
    the voice model delegates, the backend calls them.
    """
    responses = delegation_responses(persona)
    audio: dict[str, Any] = {"format": dict(AUDIO_FORMAT)}
    if persona.voice:
        audio["output"] = {"voice": persona.voice}
    session: dict[str, Any] = {
        "model": persona.model,
        "audio": audio,
        "delegation": {"type": "responses", "responses": responses},
    }
    instructions = persona.instructions + delegation_policy(persona)
    if instructions:
        session["instructions"] = instructions
    return session


def delegation_policy(persona: Persona) -> str:
    """The voice model decides when to delegate: tell it what the backend can
    do (the prompt layout GPT-Live's docs recommend). Empty without tools."""
    tools = function_tools(persona.tools)
    if not tools:
        return ""
    lines = [f"- {t['name']}: {t['description'].splitlines()[0]}" for t in tools]
    return (
        "\nDelegation policy:\nBackend tools:\n"
        + "\n".join(lines)
        + "\nDelegate to the backend when the caller needs one of these. "
        "Do not guess a result while waiting."
    )


def delegation_responses(persona: Persona) -> dict[str, Any]:
    """``delegation.responses``: the backend model, its prompt and tools. One call
    at a time (the docs' advice), so each result is answered before the next."""
    responses: dict[str, Any] = {
        "model": persona.backend_model,
        "tools": [{**tool, "strict": False} for tool in function_tools(persona.tools)],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
    }
    if persona.backend_instructions:
        responses["instructions"] = persona.backend_instructions
    return responses


def session_update(persona: Persona) -> str:
    """A handoff: the backend's prompt and tools are mutable (sent whole, as the
    delegation may be replaced as one object); model, voice and the voice's
    instructions are frozen at start (those are appended instead)."""
    return _dumps(
        {
            "type": SESSION_UPDATE,
            "event_id": SESSION_UPDATE_EVENT_ID,
            "session": {
                "delegation": {
                    "type": "responses",
                    "responses": delegation_responses(persona),
                }
            },
        }
    )


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
