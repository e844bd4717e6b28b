"""The simulated session configuration: GA defaults, validation and merging.

Mirrors what the real GA server does with ``session.update``: unknown and beta-only
fields are refused with ``unknown_parameter`` and the session keeps its previous
settings; valid fields are merged into the session, which ``session.updated`` echoes.
"""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import dataclass
from typing import Any

# Fields of the beta session that the GA server refuses.
BETA_FIELDS = frozenset(
    {
        "temperature",
        "modalities",
        "input_audio_format",
        "output_audio_format",
        "voice",
        "turn_detection",
        "input_audio_transcription",
        "input_audio_noise_reduction",
        "max_response_output_tokens",
    }
)
GA_FIELDS = frozenset(
    {
        "type",
        "model",
        "output_modalities",
        "instructions",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "tracing",
        "truncation",
        "prompt",
        "include",
        "parallel_tool_calls",
        "reasoning",
    }
)
AUDIO_FORMATS = frozenset({"audio/pcmu", "audio/pcma", "audio/pcm"})
VOICES = frozenset(
    {
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
    }
)
SERVER_VAD_DEFAULTS: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS: dict[str, Any] = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}


@dataclass
class SessionError(Exception):
    """A refused session.update: becomes an ``error`` event."""

    code: str
    message: str
    param: str | None = None


def default_session(model: str) -> dict[str, Any]:
    """What ``session.created`` carries: the GA server's defaults (PCM16 at 24 kHz)."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_" + secrets.token_hex(10),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
        "expires_at": int(time.time()) + 3600,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "alloy",
                "speed": 1.0,
            },
        },
    }


def apply_update(session: dict[str, Any], update: Any) -> dict[str, Any]:
    """The session after ``update``; raises SessionError and leaves it untouched."""
    if not isinstance(update, dict):
        raise SessionError("invalid_type", "session must be an object", "session")
    _check_fields(update)
    merged = copy.deepcopy(session)
    for key, value in update.items():
        if key == "audio":
            merged["audio"] = _merge_audio(merged["audio"], value)
        else:
            merged[key] = value
    return merged


def _check_fields(update: dict[str, Any]) -> None:
    if "type" not in update:
        raise SessionError(
            "missing_required_parameter",
            "Missing required parameter: 'session.type'.",
            "session.type",
        )
    if update["type"] != "realtime":
        raise SessionError(
            "invalid_value",
            f"Invalid value: '{update['type']}'. Supported values are: 'realtime'.",
            "session.type",
        )
    for key in update:
        if key in BETA_FIELDS or key not in GA_FIELDS:
            raise SessionError(
                "unknown_parameter",
                f"Unknown parameter: 'session.{key}'.",
                f"session.{key}",
            )
    modalities = update.get("output_modalities")
    if modalities is not None and modalities not in (["audio"], ["text"]):
        raise SessionError(
            "invalid_value",
            "output_modalities must be ['audio'] or ['text'].",
            "session.output_modalities",
        )


def _merge_audio(current: dict[str, Any], update: Any) -> dict[str, Any]:
    if not isinstance(update, dict) or set(update) - {"input", "output"}:
        raise SessionError(
            "unknown_parameter",
            "Unknown parameter in 'session.audio'.",
            "session.audio",
        )
    merged = copy.deepcopy(current)
    for side in ("input", "output"):
        part = update.get(side)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise SessionError(
                "invalid_type", f"session.audio.{side} must be an object", side
            )
        for key, value in part.items():
            param = f"session.audio.{side}.{key}"
            merged[side][key] = _audio_value(side, key, value, param)
    return merged


_INPUT_KEYS = frozenset(
    {"format", "transcription", "noise_reduction", "turn_detection"}
)
_OUTPUT_KEYS = frozenset({"format", "voice", "speed"})


def _audio_value(side: str, key: str, value: Any, param: str) -> Any:
    allowed = _INPUT_KEYS if side == "input" else _OUTPUT_KEYS
    if key not in allowed:
        raise SessionError("unknown_parameter", f"Unknown parameter: '{param}'.", param)
    if key == "format":
        return _format(value, param)
    if key == "turn_detection":
        return _turn_detection(value, param)
    if key == "voice" and not (
        value in VOICES or (isinstance(value, dict) and "id" in value)
    ):
        raise SessionError("invalid_value", f"Invalid voice {value!r}.", param)
    return value


def _format(value: Any, param: str) -> dict[str, Any]:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in AUDIO_FORMATS:
        raise SessionError(
            "invalid_value", f"Invalid audio format {value!r}.", param + ".type"
        )
    if kind == "audio/pcm" and value.get("rate") != 24000:
        raise SessionError(
            "invalid_value", "audio/pcm requires rate 24000.", param + ".rate"
        )
    return dict(value)


def _turn_detection(value: Any, param: str) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "server_vad":
        merged = {**SERVER_VAD_DEFAULTS, **value}
        threshold = merged["threshold"]
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise SessionError(
                "invalid_value",
                "threshold must be between 0 and 1.",
                param + ".threshold",
            )
        return merged
    if kind == "semantic_vad":
        merged = {**SEMANTIC_VAD_DEFAULTS, **value}
        if merged["eagerness"] not in ("low", "medium", "high", "auto"):
            raise SessionError(
                "invalid_value", "Invalid eagerness.", param + ".eagerness"
            )
        return merged
    raise SessionError("invalid_value", f"Invalid turn_detection {value!r}.", param)
