"""CallState: one call's Twilio <-> engine state, sans I/O.

Feed it what happened (a Twilio frame, an engine message, the leg opening or
closing, a timer, a tool result, a staff command) with the current time in ms; it
returns the actions to perform (``actions``). No sockets, no asyncio, no clock of
its own, so barge-in, marks and ordering are plain unit tests.

A dispatcher: each event goes to the parts owning its state: ``media`` (start
checks, caller audio), ``session`` (engine leg, assistant, greeting), ``speech``
(assistant audio, marks, barge-in), ``transcript``, ``tool_calls``, ``filler``
(a slow tool's filler), ``keypad``, ``silence``, ``call_end`` (goodbye,
transfer, end). Parts read shared facts through a ``view.StateView``; one that
would end the call says how (``goodbye.EndRequest``). Engines are known only
through the engine-neutral events and ``EngineProtocol``. No Django.
"""

from __future__ import annotations

import logging

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine, ToolResult
from calls.callstate.complaints import Complaints
from calls.callstate.continuation import Continuation
from calls.callstate.ending import CallEnd
from calls.callstate.engine_events import HANDLERS
from calls.callstate.filler import FILLER_AFTER_MS, ToolFiller
from calls.callstate.goodbye import GOODBYE_TIMEOUT_MS
from calls.callstate.greeting_replay import GreetingReplay
from calls.callstate.keypad import Keypad
from calls.callstate.media import DEFAULT_BUFFER_FRAMES, CallerAudio, refusal
from calls.callstate.responses import Responses
from calls.callstate.session import EngineSession
from calls.callstate.silence import SilenceWatch
from calls.callstate.speech import Speech
from calls.callstate.tool_flow import ToolFlow
from calls.callstate.transcript import Transcript
from calls.callstate.view import AudioObserver, StateView
from calls.engines import base as ev
from calls.engines.base import EngineEventError, EngineProtocol
from calls.telephony import media_stream
from calls.telephony.media_stream import Frame, FrameError, Media, Start
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

# Twilio sends start right after the upgrade; an early engine leg must not idle
# for an hour (OpenAI's session limit) if it never comes.
START_TIMEOUT_MS = 10_000


class CallState:
    """Twilio <-> engine call state. Pure: feed events in, get actions out.

    ``audio``: where the call's audio is observed for the whole call (its
    recording, a listen-in); None: nowhere.
    """

    # The parts the engine events are routed to (``engine_events``).
    responses: Responses
    transcript: Transcript
    speech: Speech

    def __init__(
        self,
        *,
        call_sid: str,
        persona: Persona,
        protocol: EngineProtocol,
        engine_label: str = "Realtime",
        mark_interval_ms: int = 0,
        buffer_frames: int = DEFAULT_BUFFER_FRAMES,
        goodbye_timeout_ms: int = GOODBYE_TIMEOUT_MS,
        connect_on_upgrade: bool = False,
        continuation: Continuation | None = None,
        greeting_replay: GreetingReplay | None = None,
        audio: AudioObserver | None = None,
        tool_filler_after_ms: int = FILLER_AFTER_MS,
    ) -> None:
        self.call_sid = call_sid
        self.protocol = protocol
        self.engine_label = engine_label
        self.connect_on_upgrade = connect_on_upgrade
        self.complaints = Complaints(call_sid)
        self.responses = Responses()
        self.transcript = transcript = Transcript.of_stream(
            call_sid, protocol.transcribes_caller, continuation
        )
        view, request = StateView(self), self._request
        self.session = EngineSession(
            view, persona, continuation, greeting_replay, request, self.complaints
        )
        self.media = CallerAudio(view, audio, buffer_frames)
        self.speech = Speech(
            view, transcript, audio, mark_interval_ms, self.session.talked_over
        )
        barge_in, stop_input = self.speech.barge_in, self.media.stop
        self.call_end = CallEnd(
            view, transcript, request, barge_in, stop_input, goodbye_timeout_ms
        )
        self.tool_calls = ToolFlow(view, transcript, request)
        self.filler = ToolFiller(view, request, tool_filler_after_ms)
        self.keypad = Keypad(view, transcript)
        self.silence = SilenceWatch(view, request)

    # -- what the runner and the tests read -------------------------------------

    @property
    def persona(self) -> Persona:
        """The assistant answering now (a handoff changes it)."""
        return self.session.persona

    @property
    def stream_sid(self) -> str | None:
        return self.speech.playback.stream_sid

    @property
    def ended(self) -> bool:
        return self.call_end.ended

    @property
    def transfer_refusal(self) -> str:
        """Why a transfer cannot be asked now ("": it can): one is under way."""
        return self.call_end.transfer_refusal

    @property
    def bad_frames(self) -> int:
        return self.complaints.bad_frames

    # -- Twilio side --------------------------------------------------------

    def on_accepted(self, now_ms: int) -> list[Action]:
        """The upgrade was accepted: Twilio's ``start`` is now due."""
        out: list[Action] = [a.StartTimer(a.TIMER_START, START_TIMEOUT_MS)]
        return out + self.session.open() if self.connect_on_upgrade else out

    def on_twilio_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            frame = media_stream.parse(text)
        except FrameError as exc:
            return self._bad("twilio", str(exc))
        return self.on_twilio(frame, now_ms)

    def on_twilio_binary(self, data: bytes) -> list[Action]:
        return self._bad("twilio", f"binary frame ({len(data)} bytes)")

    def on_twilio(self, frame: Frame, now_ms: int) -> list[Action]:
        if self.call_end.ended:
            return []
        if type(frame) is Media:  # the hot one, 50 a second
            if frame.stream_sid != self.speech.playback.stream_sid:
                return self._bad("twilio", "media for another or no stream")
            payload, json_safe = frame.payload, frame.json_safe
            return self.media.frame(payload, frame.timestamp, json_safe, now_ms)
        if isinstance(frame, Start):
            return self._start(frame, now_ms)
        if isinstance(frame, media_stream.Connected):
            return []
        sid = self.stream_sid
        if sid is None or frame.stream_sid != sid:
            return self._bad("twilio", f"{type(frame).__name__} for another stream")
        if isinstance(frame, media_stream.Mark):
            return self._mark_echo(frame.name, now_ms)
        if isinstance(frame, media_stream.Dtmf):
            out, request = self.keypad.pressed(frame.digit, now_ms)
            return out + self.call_end.asked(request, now_ms) if request else out
        if isinstance(frame, media_stream.Stop):
            return self.end(a.CALLER_HUNG_UP)
        return self._bad("twilio", f"unexpected {type(frame).__name__}")

    def on_twilio_closed(self, now_ms: int) -> list[Action]:
        """Twilio's socket closed without a ``stop``."""
        return self.end(a.STREAM_CLOSED)

    def _start(self, frame: Start, now_ms: int) -> list[Action]:
        if self.stream_sid is not None:
            return self._bad("twilio", "duplicate start")
        refused = refusal(frame, self.call_sid)
        if refused is not None:
            return self.call_end.end_with(refused)
        self.speech.start(frame.stream_sid, now_ms)
        self.transcript.start(now_ms)
        out = self.session.stream_began(frame.stream_sid)
        cached = self.session.cached_greeting()
        if cached:  # a cache hit: it plays now, before the engine is even open
            out += self.speech.play_cached(cached, self.persona.greeting, now_ms)
        return out + self.session.open() + self._configure()

    def _mark_echo(self, name: str, now_ms: int) -> list[Action]:
        ours, heard = self.speech.echo(name, now_ms)
        if not ours:
            return self._bad("twilio", f"mark {name[:80]!r} we did not send")
        if heard is None:
            return []
        out = heard + self.call_end.settle()
        return self._after(out)

    # -- the engine leg's lifecycle -----------------------------------------

    def on_engine_open(self, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        self.session.leg_opened()
        return self._configure()

    def on_engine_failed(self, error: str) -> list[Action]:
        return self.end(a.ENGINE_ERROR, f"{self.engine_label} connect failed: {error}")

    def on_engine_closed(
        self, code: int | None, reason: str, now_ms: int
    ) -> list[Action]:
        return self.call_end.end_with(self.session.leg_closed(code, reason))

    def _configure(self) -> list[Action]:
        """Once the leg is open and the stream known: session, backlog, greeting."""
        out = self.session.configure()
        if out is None or self.protocol.waits_for_session:
            return out or []  # the rest once the engine confirms the session
        return out + self.session_ready()

    def session_ready(self) -> list[Action]:
        """The engine takes audio and requests now: the backlog, the greeting."""
        out = self.media.backlog() + self.session.first_words()
        return self._after(out)

    # -- engine events --------------------------------------------------------

    def on_engine_text(self, text: str | bytes, now_ms: int) -> list[Action]:
        try:
            event = self.protocol.parse(text)
        except EngineEventError as exc:
            return self._bad("engine", str(exc))
        return self.on_engine(event, now_ms)

    def on_engine(self, event: ev.EngineEvent, now_ms: int) -> list[Action]:
        if self.call_end.ended:
            return []
        if type(event) is ev.AudioOut:  # the hot one, first
            return self._audio_out(event, now_ms)
        if type(event) is ev.EngineEvents:
            out: list[Action] = []
            for one in event.events:
                out += self.on_engine(one, now_ms)
            return out
        handler = HANDLERS.get(type(event))
        if handler is None:
            logger.debug("call %s: engine %s ignored", self.call_sid, event)
            return []
        out = handler(self, event, now_ms)
        return self._after(out)

    def _audio_out(self, event: ev.AudioOut, now_ms: int) -> list[Action]:
        self.session.greeting_audio(event.response_id, event.payload)
        out = self.speech.audio_out(event, now_ms)
        if isinstance(out, EndCall):
            return self.call_end.end_with(out)
        if out and self.tool_calls.awaiting_answer:
            self.tool_calls.answer_audio(event.response_id, now_ms)
        return out

    # -- tools, timers and control -------------------------------------------

    def on_tool_result(
        self,
        call_id: str,
        result: ToolResult | str,
        now_ms: int,
        duration_ms: int | None = None,
    ) -> list[Action]:
        """A tool finished: its row, its output for the model, and (once the
        batch is answered and no response is active) a request to answer."""
        if self.ended:
            return []
        if isinstance(result, str):
            result = ToolResult(result)
        known = self.tool_calls.known(call_id)
        self.filler.answered(call_id)
        out = self.tool_calls.result(call_id, result, now_ms, duration_ms)
        return self._after(out) if known else out

    def on_handoff(
        self, call_id: str, persona: Persona | None, now_ms: int
    ) -> list[Action]:
        """The handoff target's persona loaded (None: it could not be): the
        conversation goes on under its instructions and tools, in the same voice."""
        if self.ended or not self.tool_calls.known(call_id):
            return []
        offset = self.transcript.offset(now_ms)
        joined = self.session.hand_off(persona, offset) if persona else []
        return joined + self.tool_calls.handed_off(call_id, persona, now_ms)

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if name in (a.TIMER_GOODBYE, a.TIMER_MAX_DURATION):
            return self.call_end.timer(name)
        if name.startswith(a.TIMER_SILENCE + ":"):
            out, request = self.silence.fired(name)
            if request is not None:
                out += self.call_end.asked(request, now_ms)
            return out + self.silence.check()
        if name.startswith(a.TIMER_FILLER + ":"):
            return self._after(self.filler.fired(name))
        if name == a.TIMER_START:
            if self.stream_sid is None:
                return self.end(a.STREAM_CLOSED, "no start frame from Twilio")
            return []
        logger.warning("call %s: unknown timer %r", self.call_sid, name)
        return []

    def hang_up(self, requested_by: str, now_ms: int) -> list[Action]:
        """Somebody outside the call ends it now (Twilio then hangs up)."""
        return self.call_end.hang_up(requested_by, now_ms)

    def transfer(
        self, to: str, message: str, requested_by: str, now_ms: int
    ) -> list[Action]:
        """Staff hand the caller to ``to`` (``ending.CallEnd.transfer``); nothing
        while another transfer is under way (``transfer_refusal`` says so)."""
        return self.call_end.transfer(to, message, requested_by, now_ms)

    def shut_down(self) -> list[Action]:
        """The server process is stopping: end the call (the caller hears the
        unavailable message from the ``<Connect action>``)."""
        return self.end(a.SERVER_SHUTDOWN, "the server process shut down")

    def end(self, reason: str, error: str = "") -> list[Action]:
        """End the call now (the runner's internal errors end it this way too)."""
        return self.call_end.end(reason, error)

    # -- shared helpers -------------------------------------------------------

    def _after(self, out: list[Action]) -> list[Action]:
        """After an event: a slow tool's filler if nobody speaks now, then the
        silence clock started or stopped."""
        if self.filler.due:
            out = out + self.filler.check()
        return self.silence.after(out)

    def _request(self, purpose: str, instructions: str | None) -> SendEngine:
        self.responses.requested(purpose)
        return SendEngine(self.protocol.request_response(instructions, tag=purpose))

    def _bad(self, side: str, reason: str) -> list[Action]:
        self.complaints.bad_input(side, reason)
        return []
