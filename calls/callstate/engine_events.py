"""The engine's events, routed: each to the part that owns it, or composed here
from several parts. ``CallState.on_engine`` looks its handler up in ``HANDLERS``.
No Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calls.callstate import actions as a
from calls.callstate.actions import Action
from calls.callstate.responses import FILLER
from calls.engines import base as ev

if TYPE_CHECKING:
    from calls.callstate.call import CallState


def audio_done(state: CallState, event: ev.AudioOutDone, now_ms: int) -> list[Action]:
    out = state.speech.audio_done(event.item_id)
    return [] if out is None else out + state.call_end.settle()


def speech_started(
    state: CallState, event: ev.SpeechStarted, now_ms: int
) -> list[Action]:
    out = [] if state.call_end.saying_goodbye else state.speech.barge_in()
    state.media.speech_started()
    state.silence.caller_spoke()
    start = event.audio_start_ms
    received = None if start is None else state.media.clock.received_ms(start)
    state.transcript.speech_started(event.item_id, start, now_ms, received)
    return out


def speech_stopped(
    state: CallState, event: ev.SpeechStopped, now_ms: int
) -> list[Action]:
    stopped = state.media.speech_stopped(event, now_ms)
    state.transcript.speech_stopped(stopped, now_ms)
    return []


def response_done(
    state: CallState, event: ev.ResponseDone, now_ms: int
) -> list[Action]:
    out: list[Action] = [a.AddUsage(dict(event.usage))] if event.usage else []
    state.responses.done(event.response_id)
    state.filler.response_done()
    state.session.response_done(event.response_id, event.status == "completed")
    if event.status == "failed":
        fatal = state.session.response_failed(event)
        if fatal is not None:
            return out + state.call_end.end_with(fatal)
    out += state.speech.late_texts(event.transcripts)
    for turn in state.speech.of_response(event.response_id):
        out += state.speech.finish(turn) + state.call_end.settle()
    out += state.call_end.response_done(state.responses.purpose(event.response_id))
    return out + state.tool_calls.answer()


def session_configured(
    state: CallState, event: ev.SessionConfigured, now_ms: int
) -> list[Action]:
    ready = state.session.confirmed(event.mismatch)
    return state.session_ready() if ready else []


def error(state: CallState, event: ev.EngineError, now_ms: int) -> list[Action]:
    end = state.session.error(event)
    if end is not None:
        return state.call_end.end_with(end)
    if event.tag:  # our request was refused
        state.responses.refused(event.tag)
        state.tool_calls.refused(event.tag)
        state.call_end.refused(event.tag)
        if event.tag == FILLER:  # a tool's answer may have waited for it
            return state.tool_calls.answer()
    return []


def tool_call(
    state: CallState, event: ev.ToolCallRequested, now_ms: int
) -> list[Action]:
    """A built-in is done now; the rest come back in ``on_tool_result``."""
    out, request = state.tool_calls.requested(event, now_ms)
    if request:
        return out + state.call_end.asked(request, now_ms)
    for run in [x for x in out if isinstance(x, a.RunTool)]:
        out += state.filler.started(run.call_id, run.name)
    return out


# The events one part handles alone, and those the call state composes.
HANDLERS: dict[type, Callable[[CallState, Any, int], list[Action]]] = {
    ev.AssistantItemStarted: lambda s, e, t: s.speech.item_started(e, t),
    ev.AudioOutDone: audio_done,
    ev.SpeechStarted: speech_started,
    ev.SpeechStopped: speech_stopped,
    ev.CallerInputCommitted: lambda s, e, t: s.transcript.committed(e.item_id, t),
    ev.CallerTranscript: lambda s, e, t: s.transcript.caller_text(e.item_id, e.text, t),
    ev.CallerTranscriptFailed: lambda s, e, t: s.transcript.untranscribed(
        e.item_id, t, e.message
    ),
    ev.AssistantTranscript: lambda s, e, t: s.speech.text(e.item_id, e.text),
    ev.AssistantTranscriptDelta: lambda s, e, t: s.speech.delta(e),
    ev.ResponseStarted: lambda s, e, t: s.responses.started(e.response_id),
    ev.ResponseDone: response_done,
    ev.SessionConfigured: session_configured,
    ev.UsageReported: lambda s, e, t: [a.AddUsage(dict(e.usage))] if e.usage else [],
    ev.EngineError: error,
    ev.ToolCallRequested: tool_call,
}
