"""Parser for OpenAI Realtime (GA) server messages, and the usage mapping.

``parse(text)`` reads one message once (orjson) and returns a frozen dataclass from
``server_events``; events we do not use become ``Other(type)``, so new event types
are harmless. Garbage (not JSON, no ``type``, a used event missing its fields)
raises ``EventError``. ``usage_fields`` maps ``response.done`` usage onto the
Call's token counters. No Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from calls.engines.openai_realtime.server_events import (
    AUDIO_DELTA,
    AUDIO_DONE,
    AUDIO_TRANSCRIPT_DELTA,
    AUDIO_TRANSCRIPT_DONE,
    BUFFER_COMMITTED,
    ERROR,
    FUNCTION_CALL_ARGUMENTS_DONE,
    INPUT_TRANSCRIPT_COMPLETED,
    INPUT_TRANSCRIPT_FAILED,
    ITEM_TRUNCATED,
    OUTPUT_ITEM_ADDED,
    RESPONSE_CREATED,
    RESPONSE_DONE,
    SESSION_UPDATED,
    SPEECH_STARTED,
    SPEECH_STOPPED,
    AudioDone,
    AudioOut,
    AudioTranscriptDelta,
    AudioTranscriptDone,
    Committed,
    Error,
    EventError,
    FunctionCallArgumentsDone,
    InputTranscriptCompleted,
    InputTranscriptFailed,
    ItemTruncated,
    Other,
    OutputItemAdded,
    ResponseCreated,
    ResponseDone,
    ServerEvent,
    SessionUpdated,
    SpeechStarted,
    SpeechStopped,
)


def parse(text: str | bytes) -> ServerEvent:
    """One server message -> its dataclass; ``EventError`` if unreadable."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventError("not a JSON object")
    kind = data.get("type")
    if kind == AUDIO_DELTA:  # the hot one, first
        return _audio_delta(data, text)
    if not isinstance(kind, str) or not kind:
        raise EventError("no event type")
    parser = _PARSERS.get(kind)
    return parser(data) if parser else Other(kind)


def _audio_delta(data: dict[str, Any], text: str | bytes) -> AudioOut:
    item_id, delta = data.get("item_id"), data.get("delta")
    response_id = data.get("response_id") or ""
    if type(item_id) is not str or type(delta) is not str:
        raise EventError("audio delta without item_id or delta")
    escaped = ("\\" in text) if isinstance(text, str) else (b"\\" in text)
    return AudioOut(str(response_id), item_id, delta, not escaped)


def usage_fields(usage: dict[str, Any] | None) -> dict[str, int]:
    """``response.done`` usage -> the Call's token counters (usage.USAGE_FIELDS).

    When the cached split is absent, cached tokens count as text (the cheaper
    assumption is wrong by at most the cached-audio price difference).
    """
    if not isinstance(usage, dict):
        return {}
    inp = _d(usage, "input_token_details")
    out = _d(usage, "output_token_details")
    cached = _d(inp, "cached_tokens_details")
    fields = {
        "input_tokens": _n(usage, "input_tokens"),
        "output_tokens": _n(usage, "output_tokens"),
        "input_text_tokens": _n(inp, "text_tokens"),
        "input_audio_tokens": _n(inp, "audio_tokens"),
        "cached_text_tokens": _n(cached, "text_tokens"),
        "cached_audio_tokens": _n(cached, "audio_tokens"),
        "output_text_tokens": _n(out, "text_tokens"),
        "output_audio_tokens": _n(out, "audio_tokens"),
    }
    if not cached and _n(inp, "cached_tokens"):
        fields["cached_text_tokens"] = _n(inp, "cached_tokens")
    return {name: value for name, value in fields.items() if value}


def _s(data: dict[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str):
        return value
    if value is None and not required:
        return ""
    raise EventError(f"{data.get('type')}: missing or invalid {key!r}")


def _d(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _n(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and value > 0 else 0


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _session_updated(data: dict[str, Any]) -> SessionUpdated:
    audio = _d(_d(data, "session"), "audio")
    inp, out = _d(audio, "input"), _d(audio, "output")
    voice = out.get("voice")
    return SessionUpdated(
        input_format=str(_d(inp, "format").get("type", "")),
        output_format=str(_d(out, "format").get("type", "")),
        voice=voice if isinstance(voice, str) else str(_d(out, "voice").get("id", "")),
    )


def _response_done(data: dict[str, Any]) -> ResponseDone:
    response = data.get("response")
    if not isinstance(response, dict):
        raise EventError("response.done without a response")
    details = _d(response, "status_details")
    error = _d(details, "error")
    return ResponseDone(
        response_id=_s(response, "id", False),
        status=_s(response, "status", False),
        reason=_s(details, "reason", False),
        error_code=str(error.get("code") or ""),
        error_message=str(error.get("message") or ""),
        transcripts=_output_transcripts(response.get("output")),
        usage=_d(response, "usage") or None,
    )


def _output_transcripts(output: Any) -> tuple[tuple[str, str], ...]:
    found = []
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        if item.get("role") != "assistant" or not isinstance(item.get("id"), str):
            continue
        content = item.get("content")
        parts: list[Any] = content if isinstance(content, list) else []
        text = "".join(
            p["transcript"]
            for p in parts
            if isinstance(p, dict) and isinstance(p.get("transcript"), str)
        )
        found.append((item["id"], text))
    return tuple(found)


def _output_item_added(data: dict[str, Any]) -> OutputItemAdded:
    item = data.get("item")
    if not isinstance(item, dict):
        raise EventError("response.output_item.added without an item")
    return OutputItemAdded(
        _s(data, "response_id", False),
        _s(item, "id"),
        _s(item, "type", False),
        _s(item, "role", False),
    )


def _error(data: dict[str, Any]) -> Error:
    err = _d(data, "error")
    return Error(
        code=str(err.get("code") or ""),
        message=str(err.get("message") or ""),
        type=str(err.get("type") or ""),
        param=str(err.get("param") or ""),
        event_id=str(err.get("event_id") or ""),
    )


def _input_failed(data: dict[str, Any]) -> InputTranscriptFailed:
    return InputTranscriptFailed(
        _s(data, "item_id"), str(_d(data, "error").get("message") or "")
    )


def _response_created(data: dict[str, Any]) -> ResponseCreated:
    response = data.get("response")
    if not isinstance(response, dict):
        raise EventError("response.created without a response")
    return ResponseCreated(_s(response, "id"))


_PARSERS: dict[str, Callable[[dict[str, Any]], ServerEvent]] = {
    SESSION_UPDATED: _session_updated,
    SPEECH_STARTED: lambda d: SpeechStarted(
        _s(d, "item_id", False), _opt_int(d, "audio_start_ms")
    ),
    SPEECH_STOPPED: lambda d: SpeechStopped(
        _s(d, "item_id", False), _opt_int(d, "audio_end_ms")
    ),
    BUFFER_COMMITTED: lambda d: Committed(_s(d, "item_id")),
    INPUT_TRANSCRIPT_COMPLETED: lambda d: InputTranscriptCompleted(
        _s(d, "item_id"), _s(d, "transcript", False)
    ),
    INPUT_TRANSCRIPT_FAILED: _input_failed,
    RESPONSE_CREATED: _response_created,
    RESPONSE_DONE: _response_done,
    OUTPUT_ITEM_ADDED: _output_item_added,
    AUDIO_DONE: lambda d: AudioDone(_s(d, "response_id", False), _s(d, "item_id")),
    # Live view only: a malformed delta is not worth a warning.
    AUDIO_TRANSCRIPT_DELTA: lambda d: AudioTranscriptDelta(
        _s(d, "response_id", False), _s(d, "item_id", False), _s(d, "delta", False)
    ),
    AUDIO_TRANSCRIPT_DONE: lambda d: AudioTranscriptDone(
        _s(d, "response_id", False), _s(d, "item_id"), _s(d, "transcript", False)
    ),
    FUNCTION_CALL_ARGUMENTS_DONE: lambda d: FunctionCallArgumentsDone(
        _s(d, "response_id", False),
        _s(d, "item_id", False),
        _s(d, "call_id"),
        _s(d, "name", False),
        _s(d, "arguments", False),
    ),
    ITEM_TRUNCATED: lambda d: ItemTruncated(
        _s(d, "item_id"), _opt_int(d, "audio_end_ms") or 0
    ),
    ERROR: _error,
}
