"""OpenAI Realtime API (GA) client events: names and builders.

Every client event name we send is a constant here, and each builder returns the
JSON text that goes on the wire (server events are read in ``server_events``). The
session is configured GA-style only (``session.type``, nested
``audio.input``/``audio.output``): OpenAI rejects the beta shape since 2026-05-12.
No Django.

Reference: https://platform.openai.com/docs/api-reference/realtime
"""

from __future__ import annotations

from typing import Any

import orjson

from calls.engines.tools import function_tools
from calls.vocabulary.persona import Persona

# Client events we send.
SESSION_UPDATE = "session.update"
INPUT_AUDIO_APPEND = "input_audio_buffer.append"
ITEM_TRUNCATE = "conversation.item.truncate"
ITEM_CREATE = "conversation.item.create"
RESPONSE_CREATE = "response.create"
RESPONSE_CANCEL = "response.cancel"

# Correlates an ``error`` event with our session.update (errors echo event_id).
SESSION_UPDATE_EVENT_ID = "evt_session_update"
# Our response.create events carry "evt_<tag>" so an error can say which it refused.
REQUEST_EVENT_PREFIX = "evt_"
AUDIO_FORMAT = "audio/pcmu"  # G.711 mu-law 8 kHz: Twilio's format, no transcoding


def session_config(persona: Persona) -> dict[str, Any]:
    """The GA ``session`` object for a persona.

    The persona's ``temperature`` is deliberately not sent: the GA API has no such
    field and rejects the update. ``model`` travels in the URL instead.
    """
    audio_input: dict[str, Any] = {
        "format": {"type": AUDIO_FORMAT},
        "turn_detection": turn_detection(persona),
    }
    if persona.transcription_model:
        transcription = {"model": persona.transcription_model}
        if persona.transcription_language:
            transcription["language"] = persona.transcription_language
        audio_input["transcription"] = transcription
    audio_output: dict[str, Any] = {"format": {"type": AUDIO_FORMAT}}
    if persona.voice:
        audio_output["voice"] = persona.voice
    return {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": persona.instructions,
        "audio": {"input": audio_input, "output": audio_output},
        **tool_config(persona),
    }


def tool_config(persona: Persona) -> dict[str, Any]:
    """``tools`` and ``tool_choice`` for the persona's functions (none: no keys,
    so a persona without tools sends what it always did)."""
    tools = function_tools(persona.tools)
    return {"tools": tools, "tool_choice": "auto"} if tools else {}


def session_reconfigure(persona: Persona) -> str:
    """A handoff: the other assistant's instructions and tools, nothing else.

    The voice cannot change once the model has spoken, and the audio set-up stays;
    an empty ``tools`` list removes the previous assistant's functions.
    """
    session: dict[str, Any] = {
        "type": "realtime",
        "instructions": persona.instructions,
        "tools": function_tools(persona.tools),
        "tool_choice": "auto",
    }
    return _dumps(
        {
            "type": SESSION_UPDATE,
            "event_id": SESSION_UPDATE_EVENT_ID,
            "session": session,
        }
    )


def turn_detection(persona: Persona) -> dict[str, Any]:
    """VAD settings; both response flags are explicit (the schema has no default)."""
    flags = {"create_response": True, "interrupt_response": True}
    if persona.turn_detection == "semantic_vad":
        eagerness = persona.vad_eagerness or "auto"
        return {"type": "semantic_vad", "eagerness": eagerness, **flags}
    return {
        "type": "server_vad",
        "threshold": persona.vad_threshold,
        "prefix_padding_ms": persona.vad_prefix_padding_ms,
        "silence_duration_ms": persona.vad_silence_duration_ms,
        **flags,
    }


def session_update(persona: Persona) -> str:
    return _dumps(
        {
            "type": SESSION_UPDATE,
            "event_id": SESSION_UPDATE_EVENT_ID,
            "session": session_config(persona),
        }
    )


def audio_append(payload: str, *, json_safe: bool = False) -> str:
    """Caller audio, Twilio's base64 mu-law as is (hot path: 50 a second).

    ``json_safe`` means the payload needs no escaping, so concatenation is enough.
    """
    if json_safe:
        return '{"type":"input_audio_buffer.append","audio":"' + payload + '"}'
    return _dumps({"type": INPUT_AUDIO_APPEND, "audio": payload})


def item_truncate(item_id: str, audio_end_ms: int, content_index: int = 0) -> str:
    """Tell the model how much of its answer the caller actually heard."""
    return _dumps(
        {
            "type": ITEM_TRUNCATE,
            "item_id": item_id,
            "content_index": content_index,
            "audio_end_ms": max(0, int(audio_end_ms)),
        }
    )


def response_create(
    instructions: str | None = None, *, event_id: str | None = None
) -> str:
    """Ask for a response; ``event_id`` comes back on an ``error`` it causes."""
    event: dict[str, Any] = {"type": RESPONSE_CREATE}
    if event_id is not None:
        event["event_id"] = event_id
    if instructions is not None:
        event["response"] = {"instructions": instructions}
    return _dumps(event)


def response_cancel(response_id: str | None = None) -> str:
    if response_id is None:
        return _dumps({"type": RESPONSE_CANCEL})
    return _dumps({"type": RESPONSE_CANCEL, "response_id": response_id})


def function_call_output(call_id: str, output: str) -> str:
    """A tool's result for the model (then ``response_create``)."""
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    return _dumps({"type": ITEM_CREATE, "item": item})


def user_text(text: str) -> str:
    """A user text message in the conversation (context that is not speech)."""
    content = [{"type": "input_text", "text": text}]
    item = {"type": "message", "role": "user", "content": content}
    return _dumps({"type": ITEM_CREATE, "item": item})


def history_message(role: str, text: str) -> str:
    """An earlier turn of this call, for a new session that continues it: the
    caller's as a user ``input_text``, the assistant's as ``output_text``."""
    if role == "assistant":
        content = [{"type": "output_text", "text": text}]
    else:
        content = [{"type": "input_text", "text": text}]
        role = "user"
    item = {"type": "message", "role": role, "content": content}
    return _dumps({"type": ITEM_CREATE, "item": item})


def _dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()
