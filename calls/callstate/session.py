"""The engine session: the leg, who answers, the greeting, the engine's errors.

The leg is opened once (at the upgrade, or at Twilio's ``start``); the session is
configured once the leg is open and the stream known, and takes audio once the
engine confirms it (or at once, for an engine that does not confirm). Then the
first words: a later stream of the call is seeded with the conversation and
says why the caller is back; a first stream greets, from the greeting cache
when it holds this greeting (the engine is only told it was said), or by asking
the engine (and capturing the audio for the next call). A handoff changes the
assistant answering, in the same voice. Engine errors end the call when fatal
and are logged, a few times per kind, when not. No Django.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine
from calls.callstate.complaints import Complaints
from calls.callstate.continuation import Continuation
from calls.callstate.greeting_replay import GreetingReplay
from calls.callstate.responses import GREETING
from calls.callstate.view import CallView, Request
from calls.engines import base as ev
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

GREETING_INSTRUCTIONS = "Greet the caller by saying: {greeting}"


class EngineSession:
    def __init__(
        self,
        view: CallView,
        persona: Persona,
        continuation: Continuation | None,
        greeting_replay: GreetingReplay | None,
        request: Request,
        complaints: Complaints,
    ) -> None:
        self.view = view
        # Who answers: the call's assistant, or the one it was handed off to.
        self.persona = persona
        self.request = request
        self.complaints = complaints
        # A later stream of the call: its rows continue the call's.
        self.continuation = continuation
        # The greeting cache (a later stream says no greeting of its own).
        self.greeting_replay = (
            greeting_replay if continuation is None and persona.greeting else None
        )
        self.engine_requested = False  # OpenEngine sent
        self.leg_open = False
        self.config_sent = False
        self.configured = False  # the engine takes audio: it flows straight through

    def stream_began(self, stream_sid: str) -> list[Action]:
        """Twilio's stream checked out: the call is in progress, answered by its
        assistant (a later stream keeps the one it had), for at most so long."""
        persona = self.persona
        out: list[Action] = [a.CallStarted(stream_sid)]
        if self.continuation is None:
            out.append(a.AssistantJoined(persona.assistant_id, persona.name))
        if persona.max_call_duration_seconds > 0:
            ms = persona.max_call_duration_seconds * 1000
            out.append(a.StartTimer(a.TIMER_MAX_DURATION, ms))
        return out

    def hand_off(self, target: Persona, offset_ms: int) -> list[Action]:
        """Another assistant takes the call: the session's engine, model and
        voice stay (the voice cannot change once the model has spoken); the
        instructions and tools become the other assistant's."""
        current = self.persona
        if target.engine != current.engine:
            logger.warning(
                "call %s: handoff target %s runs on %s; staying on %s",
                self.view.call_sid,
                target.assistant_id,
                target.engine,
                current.engine,
            )
        self.persona = dataclasses.replace(
            target, engine=current.engine, model=current.model, voice=current.voice
        )
        reconfigure = self.view.protocol.reconfigure(self.persona)
        out: list[Action] = [SendEngine(text) for text in reconfigure]
        joined = a.AssistantJoined(
            target.assistant_id, target.name, offset_ms, handoff=True
        )
        logger.info(
            "call %s: handed off to assistant %s",
            self.view.call_sid,
            target.assistant_id,
        )
        return [*out, joined]

    def open(self) -> list[Action]:
        """Ask the runner to open the engine leg (once)."""
        if self.engine_requested:
            return []
        self.engine_requested = True
        return [a.OpenEngine()]

    def leg_opened(self) -> None:
        self.leg_open = True

    def configure(self) -> list[Action] | None:
        """The session's configuration, once the leg is open and the stream
        known (None: not yet, or already sent)."""
        if self.config_sent or not self.leg_open or self.view.stream_sid is None:
            return None
        self.config_sent = True
        return [SendEngine(text) for text in self.view.protocol.configure()]

    def leg_closed(self, code: int | None, reason: str) -> EndCall:
        """The leg closed: the call ends as disconnected."""
        detail = f"code {code}: {reason}" if reason else f"code {code}"
        error = f"{self.view.engine_label} connection closed ({detail})"
        return EndCall(a.ENGINE_DISCONNECTED, error)

    def confirmed(self, mismatch: str) -> bool:
        """The engine confirmed the session: True if it now becomes ready."""
        if mismatch:
            logger.warning("call %s: %s", self.view.call_sid, mismatch)
        return self.config_sent and not self.configured

    def first_words(self) -> list[Action]:
        """The session is ready: the conversation so far, then the greeting
        (or, on a later stream, why the caller is back)."""
        self.configured = True
        protocol = self.view.protocol
        out: list[Action] = []
        resumed = self.continuation
        if resumed is not None:
            # The conversation so far, before anything is said in this session.
            turns = list(resumed.history)
            out += [SendEngine(text) for text in protocol.history(turns)]
            if resumed.instructions:  # instead of the greeting
                out.append(self.request(GREETING, resumed.instructions))
                return out
        replay = self.greeting_replay
        greeting = self.persona.greeting
        if replay is not None and replay.hit:
            # Already playing from the cache: the model only learns it said it.
            out += [SendEngine(text) for text in replay.said]
        elif greeting:
            instructions = GREETING_INSTRUCTIONS.format(greeting=greeting)
            out.append(self.request(GREETING, instructions))
            if replay is not None:
                replay.start_capture()
        return out

    # -- what went wrong at the engine -------------------------------------------

    def error(self, event: ev.EngineError) -> EndCall | None:
        """An engine error: how the call ends because of it (None: it goes on,
        logged at most a few times per kind)."""
        view = self.view
        label = view.engine_label
        if event.kind in ("fatal", "expired"):
            logger.error("call %s: fatal %s error %s", view.call_sid, label, event.text)
            expired = event.kind == "expired"
            return EndCall(a.SESSION_EXPIRED if expired else a.ENGINE_ERROR, event.text)
        if event.kind == "config_rejected":
            what = event.context or "configuration"
            logger.warning(
                "call %s: %s rejected: %s (param %s)",
                view.call_sid,
                what,
                event.text,
                event.param,
            )
            # The session runs unconfigured (no transcription, wrong voice or
            # audio format): end now, the caller hears the unavailable message.
            return EndCall(a.ENGINE_ERROR, f"{what} rejected: {event.text}")
        self.complaints.warn(
            f"engine_error_{event.kind}",
            "call %s: %s error %s (request %s, param %s)",
            view.call_sid,
            label,
            event.text,
            event.tag or "-",
            event.param,
            level=logging.INFO if event.kind == "benign" else logging.WARNING,
        )
        return None

    def response_failed(self, event: ev.ResponseDone) -> EndCall | None:
        """A response failed: the end of the call if fatal, else a warning."""
        if event.fatal:
            return EndCall(a.ENGINE_ERROR, f"{event.error_code}: {event.error_message}")
        self.complaints.warn(
            "response_failed",
            "call %s: response %s failed: %s %s",
            self.view.call_sid,
            event.response_id,
            event.error_code,
            event.error_message,
        )
        return None

    # -- the greeting cache's side ---------------------------------------------

    def cached_greeting(self) -> Sequence[str]:
        """The greeting's audio, when the cache holds it ([]: a miss)."""
        replay = self.greeting_replay
        return replay.chunks if replay is not None and replay.chunks else []

    def greeting_audio(self, response_id: str, payload: str) -> None:
        """A chunk of assistant audio: kept if it is the greeting's, on a miss."""
        replay = self.greeting_replay
        if (
            replay is not None
            and replay.capture is not None
            and self.view.purpose(response_id) == GREETING
        ):
            replay.audio(response_id, payload)

    def talked_over(self) -> None:
        """A barge-in: a greeting talked over is not kept."""
        if self.greeting_replay is not None:
            self.greeting_replay.abort()

    def response_done(self, response_id: str, completed: bool) -> None:
        if self.greeting_replay is not None:
            self.greeting_replay.done(response_id, completed)
