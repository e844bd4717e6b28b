"""What the call state asks its runner to do: the call state's only output.

The call state never does I/O. Each ``on_*`` call returns a list of these; the
runner (``calls.runtime.runner``, the benchmark, a test) performs them in order.
Sends are pre-serialised text; database work is described, not done. No Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# Why a call ended; the values are calls.models.EndReason's (a test keeps them equal).
CALLER_HUNG_UP = "caller_hung_up"
MAX_DURATION = "max_duration"
# Any engine's failures; the stored values predate the engine interface.
ENGINE_ERROR = "realtime_error"
ENGINE_DISCONNECTED = "realtime_disconnected"
SESSION_EXPIRED = "session_expired"
STREAM_CLOSED = "stream_closed"
AUTH_FAILED = "auth_failed"
SERVER_SHUTDOWN = "server_shutdown"
HUNG_UP_BY_STAFF = "hung_up_by_staff"
TRANSFERRED = "transferred"
ASSISTANT_ENDED = "assistant_ended"
SILENCE_TIMEOUT = "silence_timeout"

# Transcript roles; calls.models.TranscriptRole's values.
CALLER = "caller"
ASSISTANT = "assistant"
SYSTEM = "system"
TOOL = "tool"
TOOL_OK, TOOL_ERROR, TOOL_TIMEOUT = "ok", "error", "timeout"

# Timer names the call state asks for with StartTimer and gets back in on_timer.
TIMER_MAX_DURATION = "max_duration"
TIMER_GOODBYE = "goodbye_timeout"
TIMER_START = "start_timeout"
# Silence timers carry a generation ("silence:3"): a stale one is ignored.
TIMER_SILENCE = "silence"
# A slow tool's filler: "tool_filler:<call id>".
TIMER_FILLER = "tool_filler"

# WebSocket close code for a stream refused after the upgrade was accepted.
CLOSE_FORBIDDEN = 4403


@dataclass(slots=True)
class SendTwilio:
    """Send this text frame to Twilio."""

    text: str


@dataclass(slots=True)
class SendEngine:
    """Send this text message to the engine."""

    text: str


@dataclass(slots=True)
class OpenEngine:
    """Open the engine leg now (at the upgrade, or at Twilio's ``start``)."""


@dataclass(slots=True)
class CallStarted:
    """Twilio's ``start`` arrived and checked out: mark the call in progress."""

    stream_sid: str


@dataclass(slots=True)
class SaveTranscript:
    """Write (or, same ``seq``, rewrite) one transcript row; see
    ``calls.services.transcript.transcript_entry_add``, whose keyword arguments
    these are."""

    seq: int
    role: str
    text: str
    item_id: str = ""
    offset_ms: int = 0
    interrupted: bool = False
    failed: bool = False
    # Caller stopped speaking (their last audio reached us) -> first assistant
    # audio sent / confirmed played; the engine's share: its end-of-speech event
    # -> its first audio.
    reply_latency_ms: int | None = None
    heard_latency_ms: int | None = None
    engine_latency_ms: int | None = None
    # Tool rows (role TOOL): ``text`` is the output or the error.
    tool_name: str = ""
    tool_arguments: str = ""
    tool_status: str = ""  # TOOL_OK, TOOL_ERROR, TOOL_TIMEOUT
    duration_ms: int | None = None

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class SetLatency:
    """Latency figures for an assistant row that was already written."""

    item_id: str
    reply_latency_ms: int | None = None
    heard_latency_ms: int | None = None
    engine_latency_ms: int | None = None

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class TranscriptDelta:
    """Assistant words as generated, for live viewers only (the row with the same
    ``seq`` is written later by ``SaveTranscript`` and replaces them)."""

    seq: int
    text: str


@dataclass(slots=True)
class AddUsage:
    """Add one response's token counts (``usage.USAGE_FIELDS`` keys)."""

    usage: Mapping[str, int]


@dataclass(slots=True)
class StartTimer:
    """Call ``state.on_timer(name, now_ms)`` in ``delay_ms``."""

    name: str
    delay_ms: int


@dataclass(slots=True)
class RunTool:
    """The model called a function: run it off the audio path, then feed the
    result back with ``state.on_tool_result(call_id, output)``."""

    call_id: str
    name: str
    arguments: str
    item_id: str = ""
    response_id: str = ""
    # When the model's call arrived (the call state's clock), so the runner can
    # log how long the tool waited to start.
    requested_ms: int = 0


@dataclass(slots=True)
class LoadPersona:
    """A handoff: load assistant ``assistant_id``'s persona off the audio path,
    then call ``state.on_handoff(call_id, persona, now_ms)``."""

    assistant_id: int
    call_id: str


@dataclass(slots=True)
class AssistantJoined:
    """An assistant took the call (at its start, or by a handoff): see
    ``calls.services.routing.call_assistant_add``, whose keyword arguments these
    are."""

    assistant_id: int | None
    name: str
    offset_ms: int = 0
    handoff: bool = False

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ToolResult:
    """What a tool run gave: the output the model gets (JSON or text; an error
    is an output too, so the model can apologise) and ``status`` (TOOL_OK,
    TOOL_ERROR, TOOL_TIMEOUT) for the transcript's tool row."""

    output: str
    status: str = TOOL_OK


@dataclass(slots=True)
class EndCall:
    """Close both legs and finalise the call (``calls.services.lifecycle.call_finish``).

    ``close_code`` is for the Twilio socket (None: a normal close, after which
    Twilio runs the ``<Connect action>`` TwiML). ``ended_by`` and ``transfer_to``
    are set when somebody outside the call ended or transferred it.
    """

    reason: str
    error: str = ""
    close_code: int | None = None
    ended_by: str = ""
    transfer_to: str = field(default="")


Action = (
    SendTwilio
    | SendEngine
    | OpenEngine
    | CallStarted
    | SaveTranscript
    | SetLatency
    | TranscriptDelta
    | AddUsage
    | StartTimer
    | RunTool
    | LoadPersona
    | AssistantJoined
    | EndCall
)
