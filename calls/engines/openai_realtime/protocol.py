"""``RealtimeProtocol``: the GA Realtime API as an ``EngineProtocol``. No Django.

Parsing is two steps for every event but the hot one: ``parser.parse`` reads the
GA message into its own dataclass (``server_events``, which reads like the API
reference), and ``_translate`` maps that onto the engine-neutral events. Audio
deltas are parsed straight into ``base.AudioOut``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calls.engines import base
from calls.engines.openai_realtime import events, parser
from calls.engines.openai_realtime import server_events as ga
from calls.vocabulary.persona import Persona

# Errors that only mean a race between us and the server; the call goes on.
BENIGN_ERROR_CODES = frozenset(
    {"response_cancel_not_active", "conversation_already_has_active_response"}
)


class RealtimeProtocol:
    """One call's codec for OpenAI's GA Realtime API (and Azure's)."""

    waits_for_session = False

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        # Only with a transcription model (the spec's "setting").
        self.transcribes_caller = bool(persona.transcription_model)

    # -- engine -> call state ------------------------------------------------------

    def parse(self, message: str | bytes) -> base.EngineEvent:
        try:
            event = parser.parse(message)
        except ga.EventError as exc:
            raise base.EngineEventError(str(exc)) from None
        if type(event) is base.AudioOut:
            return event
        translate = _TRANSLATIONS.get(type(event))
        if translate is None:
            return base.Ignored(getattr(event, "type", type(event).__name__))
        return translate(self, event)

    def _session_updated(self, ev: ga.SessionUpdated) -> base.EngineEvent:
        voice = self.persona.voice or ev.voice
        wanted = (events.AUDIO_FORMAT, events.AUDIO_FORMAT, voice)
        got = (ev.input_format, ev.output_format, ev.voice)
        if got == wanted:
            return base.SessionConfigured()
        return base.SessionConfigured(
            f"session.updated differs from what we asked: input {got[0]!r}, "
            f"output {got[1]!r}, voice {got[2]!r} (wanted {wanted!r})"
        )

    def _speech_stopped(self, ev: ga.SpeechStopped) -> base.EngineEvent:
        # OpenAI's audio_end_ms includes the silence server VAD waited for
        # (``silence_duration_ms``); semantic VAD's wait is not known.
        speech_end = None
        persona = self.persona
        if ev.audio_end_ms is not None and persona.turn_detection == "server_vad":
            silence = max(0, persona.vad_silence_duration_ms)
            speech_end = max(0, ev.audio_end_ms - silence)
        return base.SpeechStopped(ev.item_id, ev.audio_end_ms, speech_end)

    def _error(self, ev: ga.Error) -> base.EngineEvent:
        kind: base.ErrorKind
        if ev.code == "session_expired":
            kind = "expired"
        elif ev.fatal:
            kind = "fatal"
        elif ev.event_id == events.SESSION_UPDATE_EVENT_ID or ev.param.startswith(
            "session."
        ):
            kind = "config_rejected"
        elif ev.code in BENIGN_ERROR_CODES:
            kind = "benign"
        else:
            kind = "other"
        tag = ""
        if kind != "config_rejected" and ev.event_id.startswith(
            events.REQUEST_EVENT_PREFIX
        ):
            tag = ev.event_id.removeprefix(events.REQUEST_EVENT_PREFIX)
        context = events.SESSION_UPDATE if kind == "config_rejected" else ""
        return base.EngineError(
            kind, ev.code or ev.type, ev.message, tag, ev.param, context
        )

    # -- call state -> engine ------------------------------------------------------

    def configure(self) -> list[str]:
        return [events.session_update(self.persona)]

    def reconfigure(self, persona: Persona) -> list[str]:
        return [events.session_reconfigure(persona)]

    def append_audio(self, payload: str, *, json_safe: bool) -> str:
        return events.audio_append(payload, json_safe=json_safe)

    def request_response(self, instructions: str | None, *, tag: str) -> str:
        return events.response_create(
            instructions, event_id=events.REQUEST_EVENT_PREFIX + tag
        )

    def truncate(self, item_id: str, audio_ms: int) -> list[str]:
        return [events.item_truncate(item_id, audio_ms)]

    def cancel(self, response_id: str | None = None) -> list[str]:
        return [events.response_cancel(response_id)]

    def caller_note(self, text: str) -> list[str]:
        return [events.user_text(text)]

    def tool_result(self, call_id: str, output: str) -> list[str]:
        return [events.function_call_output(call_id, output)]

    def history(self, turns: list[tuple[str, str]]) -> list[str]:
        return [events.history_message(role, text) for role, text in turns]

    def said(self, text: str) -> list[str]:
        # An assistant message item: the model sees the greeting as its own turn.
        return [events.history_message("assistant", text)]


def _response_done(_: RealtimeProtocol, ev: ga.ResponseDone) -> base.EngineEvent:
    return base.ResponseDone(
        response_id=ev.response_id,
        status=ev.status,
        usage=parser.usage_fields(ev.usage),
        transcripts=ev.transcripts,
        error_code=ev.error_code,
        error_message=ev.error_message,
        fatal=ev.status == "failed" and ev.error_code in ga.FATAL_ERROR_CODES,
    )


def _item_added(_: RealtimeProtocol, ev: ga.OutputItemAdded) -> base.EngineEvent:
    if ev.item_type == "message" and ev.role in ("assistant", ""):
        return base.AssistantItemStarted(ev.response_id, ev.item_id)
    return base.Ignored(ga.OUTPUT_ITEM_ADDED)


_TRANSLATIONS: dict[type, Callable[[RealtimeProtocol, Any], base.EngineEvent]] = {
    ga.SessionUpdated: RealtimeProtocol._session_updated,
    ga.Error: RealtimeProtocol._error,
    ga.ResponseDone: _response_done,
    ga.OutputItemAdded: _item_added,
    ga.SpeechStarted: lambda _, e: base.SpeechStarted(e.item_id, e.audio_start_ms),
    ga.SpeechStopped: RealtimeProtocol._speech_stopped,
    ga.Committed: lambda _, e: base.CallerInputCommitted(e.item_id),
    ga.InputTranscriptCompleted: lambda _, e: base.CallerTranscript(
        e.item_id, e.transcript
    ),
    ga.InputTranscriptFailed: lambda _, e: base.CallerTranscriptFailed(
        e.item_id, e.message
    ),
    ga.ResponseCreated: lambda _, e: base.ResponseStarted(e.response_id),
    ga.AudioDone: lambda _, e: base.AudioOutDone(e.response_id, e.item_id),
    ga.AudioTranscriptDelta: lambda _, e: base.AssistantTranscriptDelta(
        e.response_id, e.item_id, e.delta
    ),
    ga.AudioTranscriptDone: lambda _, e: base.AssistantTranscript(
        e.response_id, e.item_id, e.transcript
    ),
    ga.FunctionCallArgumentsDone: lambda _, e: base.ToolCallRequested(
        e.call_id, e.name, e.arguments, e.item_id, e.response_id
    ),
    ga.ItemTruncated: lambda _, e: base.Ignored(ga.ITEM_TRUNCATED),
}
