"""The OpenAI Realtime (GA) server events the call state acts on, as dataclasses.

Names, the typed events ``parser.parse`` produces (``Other(type)`` for the rest)
and which error codes end a call. ``protocol`` turns them into the engine-neutral
events of ``calls.engines.base``; audio deltas are parsed into ``AudioOut`` at
once. No Django.

Reference: https://platform.openai.com/docs/api-reference/realtime-server-events
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The hot event is parsed straight into the engine-neutral type: no second object
# per audio delta.
from calls.engines.base import AudioOut as AudioOut

SESSION_UPDATED = "session.updated"
SPEECH_STARTED = "input_audio_buffer.speech_started"
SPEECH_STOPPED = "input_audio_buffer.speech_stopped"
BUFFER_COMMITTED = "input_audio_buffer.committed"
INPUT_TRANSCRIPT_COMPLETED = "conversation.item.input_audio_transcription.completed"
INPUT_TRANSCRIPT_FAILED = "conversation.item.input_audio_transcription.failed"
RESPONSE_CREATED = "response.created"
RESPONSE_DONE = "response.done"
OUTPUT_ITEM_ADDED = "response.output_item.added"
AUDIO_DELTA = "response.output_audio.delta"
AUDIO_DONE = "response.output_audio.done"
AUDIO_TRANSCRIPT_DONE = "response.output_audio_transcript.done"
AUDIO_TRANSCRIPT_DELTA = "response.output_audio_transcript.delta"
FUNCTION_CALL_ARGUMENTS_DONE = "response.function_call_arguments.done"
ITEM_TRUNCATED = "conversation.item.truncated"
ERROR = "error"

# Error codes after which the session cannot go on (the caller must not be left
# in silence): the key, the account or the model is refused, or the session is
# over. A refused session.update is as bad (``protocol`` classifies it by event
# id). Everything else (a refused response.create, a race) is logged and the
# call continues.
FATAL_ERROR_CODES = frozenset(
    {
        "session_expired",
        "invalid_api_key",
        "beta_api_shape_disabled",
        "insufficient_quota",
        "model_not_found",
        "invalid_model",
        "account_deactivated",
        "organization_deactivated",
        "unsupported_country_region_territory",
    }
)


class EventError(ValueError):
    """A server message we cannot read; str() says why."""


@dataclass(frozen=True, slots=True)
class SessionUpdated:
    input_format: str
    output_format: str
    voice: str


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    item_id: str
    audio_start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    item_id: str
    audio_end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Committed:
    item_id: str


@dataclass(frozen=True, slots=True)
class InputTranscriptCompleted:
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class InputTranscriptFailed:
    item_id: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ResponseCreated:
    response_id: str


@dataclass(frozen=True, slots=True)
class OutputItemAdded:
    response_id: str
    item_id: str
    item_type: str
    role: str = ""


@dataclass(frozen=True, slots=True)
class AudioDone:
    response_id: str
    item_id: str


@dataclass(frozen=True, slots=True)
class AudioTranscriptDelta:
    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class AudioTranscriptDone:
    response_id: str
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class ResponseDone:
    response_id: str
    status: str
    reason: str = ""
    error_code: str = ""
    error_message: str = ""
    # (item_id, transcript) of each assistant audio message in the output.
    transcripts: tuple[tuple[str, str], ...] = ()
    usage: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FunctionCallArgumentsDone:
    response_id: str
    item_id: str
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ItemTruncated:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class Error:
    code: str
    message: str
    type: str = ""
    param: str = ""
    event_id: str = ""

    @property
    def fatal(self) -> bool:
        return self.code in FATAL_ERROR_CODES


@dataclass(frozen=True, slots=True)
class Other:
    """A valid event the call state does not act on."""

    type: str


ServerEvent = (
    SessionUpdated
    | SpeechStarted
    | SpeechStopped
    | Committed
    | InputTranscriptCompleted
    | InputTranscriptFailed
    | ResponseCreated
    | OutputItemAdded
    | AudioOut
    | AudioDone
    | AudioTranscriptDelta
    | AudioTranscriptDone
    | ResponseDone
    | FunctionCallArgumentsDone
    | ItemTruncated
    | Error
    | Other
)
