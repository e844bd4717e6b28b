"""The engine interface: neutral events, the per-call protocol, the connection.

See the package docstring for what an engine must guarantee. No Django.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from calls.vocabulary.persona import Persona

# -- events: what the engine tells the call state --------------------------------


class EngineEventError(ValueError):
    """A message from the engine that cannot be read; ``str()`` says why."""


@dataclass(slots=True)  # not frozen: 50 a second per call, frozen init is slower
class AudioOut:
    """A chunk of assistant audio: base64 G.711 mu-law, 8 kHz."""

    response_id: str
    item_id: str
    payload: str
    # The payload needs no JSON escaping, so it can be concatenated into JSON.
    json_safe: bool = False


@dataclass(frozen=True, slots=True)
class AudioOutDone:
    response_id: str
    item_id: str


@dataclass(frozen=True, slots=True)
class AssistantItemStarted:
    """An assistant message item began (its transcript row is reserved here)."""

    response_id: str
    item_id: str


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The caller started speaking (barge-in if the assistant is playing)."""

    item_id: str
    # When, in ms of caller audio since the session began, if the engine says.
    audio_start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """The engine's VAD ended the caller's turn (after its silence wait)."""

    item_id: str
    # Where the engine's VAD put the end, in ms of caller audio since the session
    # began (engines may include the silence they waited for, as OpenAI does).
    audio_end_ms: int | None = None
    # The end of the caller's speech in the same clock, when the engine knows
    # it (``audio_end_ms`` less the silence wait); else ``audio_end_ms`` is used.
    speech_end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CallerInputCommitted:
    """A caller turn became a conversation item (its row is reserved here)."""

    item_id: str


@dataclass(frozen=True, slots=True)
class CallerTranscript:
    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class CallerTranscriptFailed:
    item_id: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class AssistantTranscript:
    response_id: str
    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class AssistantTranscriptDelta:
    """Assistant words as they are generated (live view only; the row is
    written from ``AssistantTranscript``)."""

    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    response_id: str


@dataclass(frozen=True, slots=True)
class ResponseDone:
    response_id: str
    # "completed", "cancelled", "failed", "incomplete" (engines map theirs).
    status: str
    # Token counts keyed by ``calls.vocabulary.usage.USAGE_FIELDS``; only non-zero ones.
    usage: Mapping[str, int] = field(default_factory=dict)
    # (item_id, transcript) of each assistant audio item in the response.
    transcripts: tuple[tuple[str, str], ...] = ()
    error_code: str = ""
    error_message: str = ""
    # A failed response that ends the session (e.g. quota exhausted).
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class UsageReported:
    """Usage outside a response (e.g. billed session seconds), as increments of
    the call's counters (``calls.vocabulary.usage.USAGE_FIELDS``)."""

    usage: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ToolCallRequested:
    call_id: str
    name: str
    arguments: str
    item_id: str = ""
    response_id: str = ""


@dataclass(frozen=True, slots=True)
class SessionConfigured:
    """The engine confirmed our configuration; ``mismatch`` (a sentence for the
    log) says what differs from what we asked, if anything."""

    mismatch: str = ""


# What an error means for the call (see the package docstring). A refusal of one
# of our tagged requests is any kind but config_rejected, with ``tag`` set.
ErrorKind = Literal["fatal", "expired", "config_rejected", "benign", "other"]


@dataclass(frozen=True, slots=True)
class EngineError:
    kind: ErrorKind
    code: str
    message: str
    # The tag of our request that was refused (``request_response(tag=...)``).
    tag: str = ""
    param: str = ""
    # The engine's own name for what it refused, e.g. "session.update".
    context: str = ""

    @property
    def text(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid message the call state does not act on."""

    type: str


@dataclass(frozen=True, slots=True)
class EngineEvents:
    """Several events from one message, handled in order (an engine that infers
    turns, e.g. from transcript deltas, may close one turn and open the next)."""

    events: tuple[EngineEvent, ...]


EngineEvent = (
    AudioOut
    | AudioOutDone
    | AssistantItemStarted
    | SpeechStarted
    | SpeechStopped
    | CallerInputCommitted
    | CallerTranscript
    | CallerTranscriptFailed
    | AssistantTranscript
    | AssistantTranscriptDelta
    | ResponseStarted
    | ResponseDone
    | UsageReported
    | ToolCallRequested
    | SessionConfigured
    | EngineError
    | Ignored
    | EngineEvents
)


# -- the per-call protocol: sans I/O ----------------------------------------------


class EngineProtocol(Protocol):
    """One call's codec: engine messages -> events, call-state requests -> text."""

    # True if the engine accepts nothing but ``configure()`` until it confirms the
    # session (``SessionConfigured``): caller audio and the greeting wait for it.
    waits_for_session: bool
    # True if the engine transcribes the caller, so the call state keeps a row for
    # each caller turn (the spec's ``caller_transcription`` says when).
    transcribes_caller: bool

    def parse(self, message: str | bytes) -> EngineEvent:
        """One message from the engine; raises ``EngineEventError`` if unreadable."""
        ...

    def configure(self) -> list[str]:
        """The messages that set the session up from the persona."""
        ...

    def reconfigure(self, persona: Persona) -> list[str]:
        """A handoff: switch to ``persona``'s instructions and tools mid-call,
        keeping the voice and audio set-up (whatever the engine allows)."""
        ...

    def append_audio(self, payload: str, *, json_safe: bool) -> str:
        """Caller audio (Twilio's base64 mu-law as is). The hot path."""
        ...

    def request_response(self, instructions: str | None, *, tag: str) -> str:
        """Ask the assistant to speak now (``None``: as the session instructs);
        an error refusing the request carries ``tag``."""
        ...

    def truncate(self, item_id: str, audio_ms: int) -> list[str]:
        """The caller heard only ``audio_ms`` of ``item_id``: forget the rest
        (nothing to send if the engine has no such command)."""
        ...

    def cancel(self, response_id: str | None = None) -> list[str]:
        """Stop the response being generated (whatever the engine has for it)."""
        ...

    def caller_note(self, text: str) -> list[str]:
        """Context for the model that is not speech (e.g. a keypad digit)."""
        ...

    def tool_result(self, call_id: str, output: str) -> list[str]:
        """A tool's output for the model (the call state then asks for a response)."""
        ...

    def history(self, turns: list[tuple[str, str]]) -> list[str]:
        """The conversation so far, as ``(role, text)`` with role "caller" or
        "assistant", for a new session continuing a call (a second stream)."""
        ...

    def said(self, text: str) -> list[str]:
        """The assistant already said ``text`` (a greeting played from the
        greeting cache): put it in the conversation without a response. Empty
        if the engine cannot be told; the caller then asks for the greeting."""
        ...


# -- the I/O side ---------------------------------------------------------------


class EngineConnection(Protocol):
    """An open leg to the engine (real or fake)."""

    async def send(self, text: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...

    async def close(self) -> None: ...

    @property
    def close_code(self) -> int | None: ...

    @property
    def close_reason(self) -> str: ...


class ConnectFn(Protocol):
    async def __call__(
        self, url: str, *, headers: Mapping[str, str], open_timeout: float
    ) -> EngineConnection: ...


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Deployment settings an engine reads (the runtime fills them from Django's)."""

    api_key: str = ""
    url: str = ""
    # "auto", "websockets" or "picows".
    ws_client: str = "auto"
    connect_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ConnectTarget:
    url: str
    headers: Mapping[str, str]


class Engine(Protocol):
    """An engine: its per-call protocol, where to connect and how."""

    name: str
    # How logs and stored errors name it ("Realtime connection closed ...").
    label: str

    def protocol(self, persona: Persona) -> EngineProtocol: ...

    def target(self, persona: Persona) -> ConnectTarget:
        """URL and headers for this persona's leg (``ValueError`` if unusable)."""
        ...

    @property
    def connect(self) -> ConnectFn: ...
