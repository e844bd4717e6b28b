"""What the call bridge asks its runner to do: the bridge's only output.

The bridge never does I/O. Each ``on_*`` call returns a list of these; the runner
(the Channels consumer, the benchmark, a test) performs them in order. Sends are
pre-serialised JSON text; database work is described, not done. No Django.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Why a call ended; the values are calls.models.EndReason's (a test keeps them equal).
CALLER_HUNG_UP = "caller_hung_up"
MAX_DURATION = "max_duration"
REALTIME_ERROR = "realtime_error"
REALTIME_DISCONNECTED = "realtime_disconnected"
SESSION_EXPIRED = "session_expired"
STREAM_CLOSED = "stream_closed"
AUTH_FAILED = "auth_failed"

# Transcript roles; calls.models.TranscriptRole's values.
CALLER = "caller"
ASSISTANT = "assistant"
SYSTEM = "system"

# Timer names the bridge asks for with StartTimer and gets back in on_timer.
TIMER_MAX_DURATION = "max_duration"
TIMER_GOODBYE = "goodbye_timeout"
TIMER_START = "start_timeout"

# WebSocket close code for a stream refused after the upgrade was accepted.
CLOSE_FORBIDDEN = 4403


@dataclass(slots=True)
class SendTwilio:
    """Send this text frame to Twilio."""

    text: str


@dataclass(slots=True)
class SendRealtime:
    """Send this text event to the Realtime API."""

    text: str


@dataclass(slots=True)
class CallStarted:
    """Twilio's ``start`` arrived and checked out: mark the call in progress."""

    stream_sid: str


@dataclass(slots=True)
class SaveTranscript:
    """Write (or, same ``seq``, rewrite) one transcript row; see
    ``services.transcript_entry_add``, whose keyword arguments these are."""

    seq: int
    role: str
    text: str
    item_id: str = ""
    offset_ms: int = 0
    interrupted: bool = False
    failed: bool = False
    reply_latency_ms: int | None = None
    heard_latency_ms: int | None = None

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class SetLatency:
    """Latency figures for an assistant row that was already written."""

    item_id: str
    reply_latency_ms: int | None = None
    heard_latency_ms: int | None = None

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class AddUsage:
    """Add one response's token counts (``usage.USAGE_FIELDS`` keys)."""

    usage: dict[str, int]


@dataclass(slots=True)
class StartTimer:
    """Call ``bridge.on_timer(name, now_ms)`` in ``delay_ms``."""

    name: str
    delay_ms: int


@dataclass(slots=True)
class ToolCall:
    """The model called a function: the seam for the tool dispatcher.

    Answer with ``realtime.function_call_output(call_id, output)`` then
    ``realtime.response_create()``.
    """

    call_id: str
    name: str
    arguments: str
    item_id: str = ""
    response_id: str = ""


@dataclass(slots=True)
class EndCall:
    """Close both legs and finalise the call (``services.call_finish``).

    ``close_code`` is for the Twilio socket (None: a normal close, after which
    Twilio runs the TwiML that follows ``<Connect>``).
    """

    reason: str
    error: str = ""
    close_code: int | None = None


Action = (
    SendTwilio
    | SendRealtime
    | CallStarted
    | SaveTranscript
    | SetLatency
    | AddUsage
    | StartTimer
    | ToolCall
    | EndCall
)
