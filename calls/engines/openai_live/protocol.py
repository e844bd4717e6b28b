"""``LiveProtocol``: OpenAI GPT-Live as an ``EngineProtocol``. No Django.

``parser.parse`` reads each message into a ``server_events`` dataclass; audio and
transcript deltas go through ``turns.LiveTurns``, which infers the items the call
state works with; the rest maps onto the neutral events here. How GPT-Live fits
the interface:

- ``configure`` is ``session.start``; GPT-Live accepts nothing else before
  ``session.started`` (``waits_for_session``), which becomes ``SessionConfigured``.
- ``request_response`` with instructions is ``session.instructions.append`` (the
  greeting and goodbye; the model speaks next); without, ``response.create`` (the
  backend continues after tool results).
- ``truncate`` sends nothing: GPT-Live has no truncate, the model yields by itself.
  ``cancel`` is an instruction to stop talking (the protocol's only way).
- ``caller_note`` is ``session.thinking.append``; so is ``history`` (the earlier
  turns of a call continued on a new stream), as one block of text.
- Usage is cumulative session seconds (``UsageReported`` sends the increase) plus
  the backend's tokens once per backend response.
"""

from __future__ import annotations

from calls.engines import base
from calls.engines.openai_live import events, parser
from calls.engines.openai_live import server_events as sv
from calls.engines.openai_live.turns import LiveTurns
from calls.vocabulary.persona import Persona
from calls.vocabulary.usage import SESSION_SECONDS_FIELD

STOP_TALKING = "Stop speaking immediately, then wait for the caller."
HANDOFF_NOTE = (
    "You are now a different assistant; from now on follow these instructions "
    "instead of the earlier ones: {instructions}"
)
HISTORY_NOTE = "Earlier in this phone call (you are continuing it):\n"
HISTORY_ROLES = {"caller": "Caller", "assistant": "You"}

# session.closed reasons: (error kind, message) for the call's end and error.
CLOSE_REASONS: dict[str, tuple[base.ErrorKind, str]] = {
    "expired": ("expired", "the GPT-Live session reached its time limit"),
    "content": ("fatal", "a safety filter ended the GPT-Live session"),
    "connection_lost": ("fatal", "GPT-Live lost its connection"),
    "remote_hangup": ("fatal", "GPT-Live's connection ended"),
    "close_requested": ("fatal", "the GPT-Live session was closed"),
}


class LiveProtocol:
    """One call's codec for OpenAI's GPT-Live WebSocket API."""

    waits_for_session = True
    # Both sides, always: GPT-Live has no transcription setting.
    transcribes_caller = True

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self.turns = LiveTurns()
        self.session_id = ""
        self.expires_at: int | None = None
        self.billed_seconds = 0  # whole seconds already reported
        self.backend_responses: set[str] = set()

    # -- engine -> call state ------------------------------------------------------

    def parse(self, message: str | bytes) -> base.EngineEvent:
        try:
            event = parser.parse(message)
        except sv.EventError as exc:
            raise base.EngineEventError(str(exc)) from None
        if type(event) is sv.OutputAudio:
            return self.turns.audio(event.payload, event.json_safe)
        if type(event) is sv.TranscriptDelta:
            return self.turns.transcript(
                event.speaker, event.text, event.start_ms, event.end_ms
            )
        if isinstance(event, sv.SessionStarted):
            return self._started(event)
        if isinstance(event, sv.UsageUpdated):
            return self._usage(event.seconds)
        if isinstance(event, sv.SessionClosed):
            return self._closed(event)
        if isinstance(event, sv.BackendCompleted):
            return self._backend_done(event)
        if isinstance(event, sv.BackendToolCall):
            return base.ToolCallRequested(
                event.call_id, event.name, event.arguments, event.item_id
            )
        if isinstance(event, sv.Error):
            return self._error(event)
        assert isinstance(event, sv.Other)
        return base.Ignored(event.type)

    def _started(self, ev: sv.SessionStarted) -> base.EngineEvent:
        self.session_id, self.expires_at = ev.session_id, ev.expires_at
        voice = self.persona.voice or ev.voice
        wanted = (events.AUDIO_FORMAT, voice)
        got = (ev.audio_format, ev.voice or voice)
        if got == wanted:
            return base.SessionConfigured()
        return base.SessionConfigured(
            f"session.started differs from what we asked: audio {got[0]!r}, "
            f"voice {got[1]!r} (wanted {wanted!r})"
        )

    def _usage(self, seconds: float) -> base.EngineEvent:
        whole = int(seconds)
        if whole <= self.billed_seconds:
            return base.Ignored(sv.USAGE_UPDATED)
        increase, self.billed_seconds = whole - self.billed_seconds, whole
        return base.UsageReported({SESSION_SECONDS_FIELD: increase})

    def _backend_done(self, ev: sv.BackendCompleted) -> base.EngineEvent:
        if not ev.usage or ev.response_id in self.backend_responses:
            return base.Ignored("response.event/" + ev.status)
        self.backend_responses.add(ev.response_id)
        return base.UsageReported(ev.usage)

    def _closed(self, ev: sv.SessionClosed) -> base.EngineEvent:
        out = self.turns.flush()
        if ev.seconds is not None:
            usage = self._usage(ev.seconds)
            if not isinstance(usage, base.Ignored):
                out.append(usage)
        # Any close reaches an ended call only if we did not ask for it.
        kind, message = CLOSE_REASONS.get(
            ev.reason, ("fatal", "the GPT-Live session ended")
        )
        out.append(base.EngineError(kind, f"session_{ev.reason}", message))
        return base.EngineEvents(tuple(out)) if out else base.Ignored(sv.SESSION_CLOSED)

    def _error(self, ev: sv.Error) -> base.EngineEvent:
        kind: base.ErrorKind
        if ev.code in sv.FATAL_ERROR_CODES:
            kind = "fatal"
        elif ev.client_event_id == events.SESSION_START_EVENT_ID:
            kind = "config_rejected"
        else:
            kind = "other"
        tag = ""
        if kind != "config_rejected" and ev.client_event_id.startswith(
            events.REQUEST_EVENT_PREFIX
        ):
            tag = ev.client_event_id.removeprefix(events.REQUEST_EVENT_PREFIX)
        context = events.SESSION_START if kind == "config_rejected" else ""
        return base.EngineError(
            kind, ev.code or ev.type, ev.message, tag, ev.param, context
        )

    # -- call state -> engine ------------------------------------------------------

    def configure(self) -> list[str]:
        return [events.session_start(self.persona)]

    def reconfigure(self, persona: Persona) -> list[str]:
        out = [events.session_update(persona)]
        instructions = persona.instructions + events.delegation_policy(persona)
        if instructions:
            # Appends are capped (500 tokens): a long prompt belongs in the
            # backend instructions, which the update above replaces whole.
            note = HANDOFF_NOTE.format(instructions=instructions[:1500])
            out.append(
                events.instructions_append(
                    note, event_id=events.REQUEST_EVENT_PREFIX + "handoff"
                )
            )
        return out

    def append_audio(self, payload: str, *, json_safe: bool) -> str:
        # The session clock counts caller audio: 4 base64 chars = 3 bytes.
        self.turns.clock_ms += len(payload) * 3 // 32
        return events.audio_append(payload, json_safe=json_safe)

    def request_response(self, instructions: str | None, *, tag: str) -> str:
        event_id = events.REQUEST_EVENT_PREFIX + tag
        if instructions is None:
            return events.response_create(event_id=event_id)
        return events.instructions_append(
            instructions + events.SPEAK_NOW, event_id=event_id
        )

    def truncate(self, item_id: str, audio_ms: int) -> list[str]:
        return []  # no such command: the model stops by itself when talked over

    def cancel(self, response_id: str | None = None) -> list[str]:
        self.turns.cut()
        return [
            events.instructions_append(
                STOP_TALKING, event_id=events.REQUEST_EVENT_PREFIX + "cancel"
            )
        ]

    def caller_note(self, text: str) -> list[str]:
        return [events.thinking_append(text)]

    def tool_result(self, call_id: str, output: str) -> list[str]:
        return [events.function_call_output(call_id, output)]

    def history(self, turns: list[tuple[str, str]]) -> list[str]:
        # Startup history (``session.start`` input) is fixed before the call
        # state knows it continues a call; silent context is what is left.
        if not turns:
            return []
        lines = [f"{HISTORY_ROLES.get(role, role)}: {text}" for role, text in turns]
        return [events.thinking_append(HISTORY_NOTE + "\n".join(lines))]

    def said(self, text: str) -> list[str]:
        # GPT-Live has no assistant item to create: a cached greeting would
        # leave the model unaware it spoke, so the call takes the slow path.
        return []
