"""Parser for GPT-Live server messages, and the backend usage mapping. No Django.

``parse(text)`` reads one message once (orjson) into a dataclass of
``server_events``; events we do not use become ``Other(type)``, so new event types
are harmless. Garbage (not JSON, no ``type``, a used event missing its fields)
raises ``EventError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from calls.engines.openai_live import server_events as sv
from calls.engines.openai_live.server_events import EventError


def parse(text: str | bytes) -> sv.ServerEvent:
    """One server message -> its dataclass; ``EventError`` if unreadable."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventError("not a JSON object")
    kind = data.get("type")
    if kind == sv.OUTPUT_AUDIO_DELTA:  # the hot one, first
        delta = data.get("delta")
        if type(delta) is not str:
            raise EventError("output audio delta without delta")
        escaped = ("\\" in text) if isinstance(text, str) else (b"\\" in text)
        return sv.OutputAudio(delta, not escaped)
    if not isinstance(kind, str) or not kind:
        raise EventError("no event type")
    parser = _PARSERS.get(kind)
    return parser(data) if parser else sv.Other(kind)


def backend_usage(usage: Any) -> dict[str, int]:
    """A backend ``response.usage`` -> the call's text token counters."""
    if not isinstance(usage, dict):
        return {}
    details = usage.get("input_tokens_details") or {}
    values = {
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "input_text_tokens": _int(usage.get("input_tokens")),
        "output_text_tokens": _int(usage.get("output_tokens")),
        "cached_text_tokens": _int(
            details.get("cached_tokens") if isinstance(details, dict) else 0
        ),
    }
    return {key: value for key, value in values.items() if value}


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def _ms(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is not int and type(value) is not float:
        raise EventError(f"{data.get('type')} without {key}")
    return int(value)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _session_started(data: dict[str, Any]) -> sv.SessionStarted:
    session = data.get("session")
    if not isinstance(session, dict):
        raise EventError("session.started without session")
    audio = session.get("audio") or {}
    audio = audio if isinstance(audio, dict) else {}
    fmt = audio.get("format")
    output = audio.get("output") or {}
    voice = output.get("voice") if isinstance(output, dict) else None
    expires = session.get("expires_at")
    return sv.SessionStarted(
        _str(session, "id"),
        fmt if isinstance(fmt, dict) else {},
        voice if isinstance(voice, str) else "",
        expires if type(expires) is int else None,
    )


def _transcript(speaker: str) -> Callable[[dict[str, Any]], sv.TranscriptDelta]:
    def parse_delta(data: dict[str, Any]) -> sv.TranscriptDelta:
        delta = data.get("delta")
        if type(delta) is not str:
            raise EventError(f"{data.get('type')} without delta")
        return sv.TranscriptDelta(
            speaker, delta, _ms(data, "start_ms"), _ms(data, "end_ms")
        )

    return parse_delta


def _seconds(data: dict[str, Any]) -> float | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    seconds = usage.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    return float(seconds)


def _usage_updated(data: dict[str, Any]) -> sv.UsageUpdated:
    seconds = _seconds(data)
    if seconds is None:
        raise EventError("session.usage.updated without usage.seconds")
    return sv.UsageUpdated(seconds)


def _session_closed(data: dict[str, Any]) -> sv.SessionClosed:
    return sv.SessionClosed(_str(data, "reason") or "unknown", _seconds(data))


def _response_event(data: dict[str, Any]) -> sv.ServerEvent:
    event = data.get("event")
    if not isinstance(event, dict):
        raise EventError("response.event without event")
    kind = event.get("type")
    if kind in ("response.completed", "response.failed", "response.incomplete"):
        response = event.get("response") or {}
        if not isinstance(response, dict):
            raise EventError(f"{kind} without response")
        return sv.BackendCompleted(
            _str(response, "id"),
            _str(response, "status") or str(kind).rpartition(".")[2],
            backend_usage(response.get("usage")),
        )
    if kind == "response.output_item.done":
        item = event.get("item") or {}
        if (
            isinstance(item, dict)
            and item.get("type") == "function_call"
            and item.get("status") == "completed"
        ):
            call_id, name = _str(item, "call_id"), _str(item, "name")
            if not call_id or not name:
                raise EventError("function_call without call_id or name")
            return sv.BackendToolCall(
                _str(data, "delegation_id"),
                call_id,
                name,
                _str(item, "arguments"),
                _str(item, "id"),
            )
    return sv.Other(f"response.event/{kind}")


def _error(data: dict[str, Any]) -> sv.Error:
    error = data.get("error")
    if not isinstance(error, dict):
        raise EventError("error without error object")
    return sv.Error(
        _str(error, "code"),  # documented as possibly null
        _str(error, "message"),
        _str(error, "type"),
        _str(error, "param"),
        _str(error, "client_event_id") or _str(data, "client_event_id"),
    )


_PARSERS: dict[str, Callable[[dict[str, Any]], sv.ServerEvent]] = {
    sv.SESSION_STARTED: _session_started,
    sv.INPUT_TRANSCRIPT_DELTA: _transcript("caller"),
    sv.OUTPUT_TRANSCRIPT_DELTA: _transcript("assistant"),
    sv.USAGE_UPDATED: _usage_updated,
    sv.SESSION_CLOSED: _session_closed,
    sv.RESPONSE_EVENT: _response_event,
    sv.ERROR: _error,
}
