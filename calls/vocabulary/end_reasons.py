"""Why a call ended: the stored values and what people read for them.

The values are stored in ``Call.end_reason`` (``calls.models.EndReason`` uses
these values and labels; a test keeps them equal). Some values predate the
engine interface and still say "realtime"; their labels name no engine, since
every engine's failures end calls with them.
"""

from __future__ import annotations

CALLER_HUNG_UP = "caller_hung_up"
MAX_DURATION = "max_duration"
ENGINE_ERROR = "realtime_error"
ENGINE_DISCONNECTED = "realtime_disconnected"
SESSION_EXPIRED = "session_expired"
STREAM_CLOSED = "stream_closed"
REJECTED = "rejected"
AUTH_FAILED = "auth_failed"
SERVER_SHUTDOWN = "server_shutdown"
STATUS_CALLBACK = "status_callback"
HUNG_UP_BY_STAFF = "hung_up_by_staff"
TRANSFERRED = "transferred"
PROCESS_LOST = "process_lost"
NO_STREAM = "no_stream"
ASSISTANT_ENDED = "assistant_ended"
SILENCE_TIMEOUT = "silence_timeout"

# value -> label, in the order the pages list them.
LABELS: dict[str, str] = {
    CALLER_HUNG_UP: "Caller hung up",
    MAX_DURATION: "Max call duration reached",
    ENGINE_ERROR: "Voice engine error",
    ENGINE_DISCONNECTED: "Voice engine connection dropped",
    SESSION_EXPIRED: "Voice engine session expired",
    STREAM_CLOSED: "Media stream closed",
    REJECTED: "Number not configured",
    AUTH_FAILED: "Stream authentication failed",
    SERVER_SHUTDOWN: "Server shut down",
    STATUS_CALLBACK: "Ended per Twilio status callback",
    HUNG_UP_BY_STAFF: "Hung up by staff",
    TRANSFERRED: "Transferred to a person",
    PROCESS_LOST: "Server process lost the call",
    NO_STREAM: "Media stream never opened",
    ASSISTANT_ENDED: "Assistant ended the call",
    SILENCE_TIMEOUT: "Caller silent too long",
}
