"""The GPT-Live server events we read, as dataclasses named like the API. No Django.

``parser.parse`` produces these; ``protocol`` maps them onto the engine-neutral
events. Output audio is the hot one (50 a second) and is parsed straight into
``OutputAudio``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SESSION_STARTED = "session.started"
OUTPUT_AUDIO_DELTA = "session.output_audio.delta"
INPUT_TRANSCRIPT_DELTA = "session.input_transcript.delta"
OUTPUT_TRANSCRIPT_DELTA = "session.output_transcript.delta"
USAGE_UPDATED = "session.usage.updated"
SESSION_CLOSED = "session.closed"
RESPONSE_EVENT = "response.event"
ERROR = "error"

# Error codes after which the session cannot go on (account problems).
FATAL_ERROR_CODES = frozenset(
    {
        "insufficient_quota",
        "invalid_api_key",
        "account_deactivated",
        "billing_hard_limit_reached",
    }
)


class EventError(ValueError):
    """A server message that cannot be read."""


@dataclass(slots=True)
class OutputAudio:
    payload: str
    json_safe: bool = False


@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str
    audio_format: dict[str, Any]
    voice: str
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class TranscriptDelta:
    """A caller (``input``) or assistant (``output``) transcript fragment, on the
    session timeline (ms of input audio since start)."""

    speaker: str  # "caller" or "assistant"
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class UsageUpdated:
    """Cumulative session seconds (a snapshot: overwrite, never add)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class SessionClosed:
    reason: str
    seconds: float | None


@dataclass(frozen=True, slots=True)
class BackendCompleted:
    """A backend Responses response finished; its tokens (once per response id)."""

    response_id: str
    status: str
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BackendToolCall:
    delegation_id: str
    call_id: str
    name: str
    arguments: str
    item_id: str


@dataclass(frozen=True, slots=True)
class Error:
    code: str
    message: str
    type: str
    param: str
    client_event_id: str


@dataclass(frozen=True, slots=True)
class Other:
    type: str


ServerEvent = (
    OutputAudio
    | SessionStarted
    | TranscriptDelta
    | UsageUpdated
    | SessionClosed
    | BackendCompleted
    | BackendToolCall
    | Error
    | Other
)
