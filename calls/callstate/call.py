"""CallState: one call's Twilio <-> engine state, sans I/O.

Feed it what happened (a Twilio frame, an engine message, the leg opening or
closing, a timer, a tool result, a staff command) with the current time in ms; it
returns the actions to perform (``actions``). No sockets, no asyncio, no clock of
its own, so barge-in, marks and ordering are plain unit tests.

``CallState`` is a dispatcher: each event goes to the part that owns its state,
behind methods: ``media`` (the ``start`` checks, caller audio), ``session`` (the
engine leg, its configuration, the greeting), ``speech`` (assistant audio,
marks, barge-in), ``transcript``, ``tool_flow`` (function calls and the
built-ins), ``keypad``, ``silence`` and ``goodbye``. Parts read the call's shared
facts through ``view.CallView`` (this class is one); a part that ends the call
says how (``goodbye.Ending``) and the dispatcher does it. The engine is known only
through the engine-neutral events and the ``EngineProtocol`` it is given. No
Django.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine, ToolResult
from calls.callstate.caller_clock import CallerAudioClock
from calls.callstate.complaints import Complaints
from calls.callstate.continuation import Continuation
from calls.callstate.goodbye import (
    GENERIC_GOODBYE,
    GOODBYE_TIMEOUT_MS,
    SAY_EXACTLY,
    Ending,
    Goodbyes,
    TransferTo,
)
from calls.callstate.greeting_replay import GreetingReplay
from calls.callstate.keypad import DTMF_NOTE, Keypad
from calls.callstate.media import DEFAULT_BUFFER_FRAMES, CallerAudio, refusal
from calls.callstate.playback import TwilioPlayback
from calls.callstate.responses import GOODBYE, TOOL, Responses
from calls.callstate.session import GREETING_INSTRUCTIONS, EngineSession
from calls.callstate.silence import SilenceWatch
from calls.callstate.speech import MAX_UNPLAYED_MS, Speech
from calls.callstate.tool_flow import ToolFlow, handoff_persona
from calls.callstate.transcript import Transcript
from calls.callstate.view import AudioObserver
from calls.engines import base as ev
from calls.engines.base import EngineEventError, EngineProtocol
from calls.telephony import media_stream
from calls.telephony.media_stream import (
    Connected,
    Dtmf,
    Frame,
    FrameError,
    Mark,
    Media,
    Start,
    Stop,
)
from calls.vocabulary.persona import Persona

__all__ = [
    "DEFAULT_BUFFER_FRAMES",
    "DTMF_NOTE",
    "GENERIC_GOODBYE",
    "GOODBYE_TIMEOUT_MS",
    "GREETING_INSTRUCTIONS",
    "MAX_DURATION_GOODBYE",
    "MAX_UNPLAYED_MS",
    "SAY_EXACTLY",
    "START_TIMEOUT_MS",
    "CallState",
]

logger = logging.getLogger(__name__)

# Twilio sends start right after the upgrade; an early engine leg must not idle
# for an hour (OpenAI's session limit) if it never comes.
START_TIMEOUT_MS = 10_000
MAX_DURATION_GOODBYE = (
    "Tell the caller the maximum call time is reached and say goodbye."
)


class CallState:
    """Twilio <-> engine call state. Pure: feed events in, get actions out.

    ``audio``: where the call's audio is observed (its recording, a listen-in),
    for the whole call; None: nowhere.
    """

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
    ) -> None:
        self.call_sid = call_sid
        self.persona = persona
        self.protocol = protocol
        self.engine_label = engine_label
        self.connect_on_upgrade = connect_on_upgrade
        self.audio = audio
        self.ended = False
        self.end_reason = ""
        self.errors: list[str] = []
        self.complaints = Complaints(call_sid)
        self.responses = Responses()
        # A later stream of the call: its rows continue the call's.
        self.transcript = Transcript(
            transcribes_caller=protocol.transcribes_caller,
            first_seq=continuation.last_seq + 1 if continuation else 1,
            origin_ms=continuation.offset_ms if continuation else 0,
        )
        self.media = CallerAudio(self, audio, buffer_frames)
        self.session = EngineSession(
            self, continuation, greeting_replay, self._request, self.complaints
        )
        self.speech = Speech(self, self.transcript, audio, mark_interval_ms)
        self.tool_calls = ToolFlow(self, self.transcript, self._request)
        self.keypad = Keypad(self, self.transcript)
        self.silence = SilenceWatch(self, self._request)
        self.goodbye = Goodbyes(goodbye_timeout_ms)

    # -- the shared facts (``view.CallView``) ---------------------------------

    @property
    def stream_sid(self) -> str | None:
        return self.speech.playback.stream_sid

    @property
    def configured(self) -> bool:
        return self.session.configured

    @property
    def input_stopped(self) -> bool:
        return self.media.stopped

    @property
    def ending(self) -> bool:
        return self.goodbye.asked

    @property
    def responding(self) -> bool:
        return self.responses.busy

    def purpose(self, response_id: str) -> str:
        return self.responses.purpose(response_id)

    # -- what the runner, the notes and the tests read --------------------------

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    @property
    def bad_frames(self) -> int:
        return self.complaints.bad_frames

    @property
    def dropped_frames(self) -> int:
        return self.media.dropped_frames

    @property
    def leg_open(self) -> bool:
        return self.session.leg_open

    @property
    def caller_clock(self) -> CallerAudioClock:
        return self.media.clock

    @property
    def playback(self) -> TwilioPlayback:
        return self.speech.playback

    # -- Twilio side --------------------------------------------------------

    def on_accepted(self, now_ms: int) -> list[Action]:
        """The upgrade was accepted: Twilio's ``start`` is now due."""
        out: list[Action] = [a.StartTimer(a.TIMER_START, START_TIMEOUT_MS)]
        if self.connect_on_upgrade:
            out += self.session.open()
        return out

    def on_twilio_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            frame = media_stream.parse(text)
        except FrameError as exc:
            return self._bad("twilio", str(exc))
        return self.on_twilio(frame, now_ms)

    def on_twilio_binary(self, data: bytes) -> list[Action]:
        return self._bad("twilio", f"binary frame ({len(data)} bytes)")

    def on_twilio(self, frame: Frame, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if type(frame) is Media:  # the hot one, 50 a second
            if frame.stream_sid != self.speech.playback.stream_sid:
                return self._bad("twilio", "media for another or no stream")
            return self.media.frame(
                frame.payload, frame.timestamp, frame.json_safe, now_ms
            )
        if isinstance(frame, Start):
            return self._start(frame, now_ms)
        if isinstance(frame, Connected):
            return []
        sid = self.stream_sid
        if sid is None or frame.stream_sid != sid:
            return self._bad("twilio", f"{type(frame).__name__} for another stream")
        if isinstance(frame, Mark):
            return self._mark_echo(frame.name, now_ms)
        if isinstance(frame, Dtmf):
            out, ending = self.keypad.pressed(frame.digit, now_ms)
            return out + self._leave(ending, now_ms) if ending else out
        if isinstance(frame, Stop):
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
            return self._end_with(refused)
        self.speech.start(frame.stream_sid)
        self.transcript.start(now_ms)
        if self.audio is not None:
            self.audio.stream_started(now_ms)
        out: list[Action] = [a.CallStarted(frame.stream_sid)]
        if self.session.continuation is None:  # a later stream keeps its assistant
            out.append(a.AssistantJoined(self.persona.assistant_id, self.persona.name))
        max_seconds = self.persona.max_call_duration_seconds
        if max_seconds > 0:
            out.append(a.StartTimer(a.TIMER_MAX_DURATION, max_seconds * 1000))
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
        out = heard + self._settle_goodbye()
        return out + self._silence_check() if self.silence.on else out

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
        detail = f"code {code}: {reason}" if reason else f"code {code}"
        return self.end(
            a.ENGINE_DISCONNECTED,
            f"{self.engine_label} connection closed ({detail})",
        )

    def _configure(self) -> list[Action]:
        """Once the leg is open and the stream known: session, backlog, greeting."""
        out = self.session.configure()
        if out is None:
            return []
        if self.protocol.waits_for_session:
            return out  # the rest once the engine confirms the session
        return out + self._session_ready()

    def _session_ready(self) -> list[Action]:
        """The engine takes audio and requests now: the backlog, the greeting."""
        out = self.media.backlog() + self.session.first_words()
        return out + self._silence_check() if self.silence.on else out

    # -- engine events --------------------------------------------------------

    def on_engine_text(self, text: str | bytes, now_ms: int) -> list[Action]:
        try:
            event = self.protocol.parse(text)
        except EngineEventError as exc:
            return self._bad("engine", str(exc))
        return self.on_engine(event, now_ms)

    def on_engine(self, event: ev.EngineEvent, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if type(event) is ev.AudioOut:  # the hot one, first
            return self._audio_out(event, now_ms)
        if type(event) is ev.EngineEvents:
            out: list[Action] = []
            for one in event.events:
                out += self.on_engine(one, now_ms)
            return out
        handler = _HANDLERS.get(type(event))
        if handler is None:
            logger.debug("call %s: engine %s ignored", self.call_sid, event)
            return []
        out = handler(self, event, now_ms)
        return out + self._silence_check() if self.silence.on else out

    def _audio_out(self, event: ev.AudioOut, now_ms: int) -> list[Action]:
        self.session.greeting_audio(event.response_id, event.payload)
        out = self.speech.audio_out(event, now_ms)
        if isinstance(out, EndCall):
            return self._end_with(out)
        if out and self.tool_calls.awaiting_answer:
            self.tool_calls.answer_audio(event.response_id, now_ms)
        return out

    def _item_started(
        self, event: ev.AssistantItemStarted, now_ms: int
    ) -> list[Action]:
        self.speech.item_started(event, now_ms)
        return []

    def _audio_done(self, event: ev.AudioOutDone, now_ms: int) -> list[Action]:
        out = self.speech.audio_done(event.item_id)
        return [] if out is None else out + self._settle_goodbye()

    def _speech_started(self, event: ev.SpeechStarted, now_ms: int) -> list[Action]:
        out = [] if self.goodbye.saying else self._barge_in()
        self.media.speech_started()
        self.silence.caller_spoke()
        self.transcript.speech_started(event.item_id, event.audio_start_ms, now_ms)
        return out

    def _barge_in(self) -> list[Action]:
        out, cut = self.speech.barge_in()
        if cut:
            self.session.talked_over()
        return out

    def _speech_stopped(self, event: ev.SpeechStopped, now_ms: int) -> list[Action]:
        stopped = self.media.speech_stopped(event, now_ms)
        self.transcript.speech_stopped(stopped, now_ms)
        return []

    def _committed(self, event: ev.CallerInputCommitted, now_ms: int) -> list[Action]:
        self.transcript.caller_committed(event.item_id, now_ms)
        return []

    def _caller_text(self, event: ev.CallerTranscript, now_ms: int) -> list[Action]:
        return self.transcript.caller_text(event.item_id, event.text, now_ms)

    def _caller_failed(
        self, event: ev.CallerTranscriptFailed, now_ms: int
    ) -> list[Action]:
        logger.info(
            "call %s: caller turn %s not transcribed: %s",
            self.call_sid,
            event.item_id,
            event.message,
        )
        return self.transcript.caller_failed(event.item_id, now_ms)

    def _assistant_text(
        self, event: ev.AssistantTranscript, now_ms: int
    ) -> list[Action]:
        return self.speech.text(event.item_id, event.text)

    def _assistant_delta(
        self, event: ev.AssistantTranscriptDelta, now_ms: int
    ) -> list[Action]:
        return self.speech.delta(event)

    def _response_started(self, event: ev.ResponseStarted, now_ms: int) -> list[Action]:
        self.responses.started(event.response_id)
        return []

    def _response_done(self, event: ev.ResponseDone, now_ms: int) -> list[Action]:
        out: list[Action] = [a.AddUsage(dict(event.usage))] if event.usage else []
        self.responses.done(event.response_id)
        self.session.response_done(event.response_id, event.status == "completed")
        if event.status == "failed":
            fatal = self.session.response_failed(event)
            if fatal is not None:
                return out + self._end_with(fatal)
        out += self.speech.late_texts(event.transcripts)
        for turn in self.speech.of_response(event.response_id):
            out += self.speech.finish(turn) + self._settle_goodbye()
        if self.goodbye.asked:
            if self.responses.purpose(event.response_id) == GOODBYE:
                self.goodbye.generated()
                out += self._settle_goodbye()
            elif self.goodbye.waiting:
                out += self._send_goodbye()
        return out + self.tool_calls.answer()

    def _session_configured(
        self, event: ev.SessionConfigured, now_ms: int
    ) -> list[Action]:
        if self.session.confirmed(event.mismatch):
            return self._session_ready()
        return []

    def _usage(self, event: ev.UsageReported, now_ms: int) -> list[Action]:
        return [a.AddUsage(dict(event.usage))] if event.usage else []

    def _error(self, event: ev.EngineError, now_ms: int) -> list[Action]:
        end = self.session.error(event)
        if end is not None:
            return self._end_with(end)
        if event.tag:
            self.responses.refused(event.tag)
            if event.tag == TOOL:
                self.tool_calls.refused()
            elif event.tag == GOODBYE:
                self.goodbye.refused()
        return []

    def _tool_call(self, event: ev.ToolCallRequested, now_ms: int) -> list[Action]:
        """The model called a function: a built-in is done here, the rest runs
        in the runner (off the audio path) and comes back in ``on_tool_result``."""
        out, ending = self.tool_calls.requested(event, now_ms)
        return out + self._leave(ending, now_ms) if ending else out

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
        out = self.tool_calls.result(call_id, result, now_ms, duration_ms)
        return out + self._silence_check() if known and self.silence.on else out

    def on_handoff(
        self, call_id: str, persona: Persona | None, now_ms: int
    ) -> list[Action]:
        """The handoff target's persona loaded (None: it could not be): the
        conversation goes on under its instructions and tools, in the same voice."""
        if self.ended or not self.tool_calls.known(call_id):
            return []
        if persona is None:
            return self.tool_calls.handed_off(call_id, None, now_ms)
        self.persona = handoff_persona(self.persona, persona, self.call_sid)
        out: list[Action] = [
            SendEngine(text) for text in self.protocol.reconfigure(self.persona)
        ]
        joined = a.AssistantJoined(
            persona.assistant_id,
            persona.name,
            self.transcript.offset(now_ms),
            handoff=True,
        )
        return [*out, joined, *self.tool_calls.handed_off(call_id, persona, now_ms)]

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if name == a.TIMER_GOODBYE:
            return self._end_with(self.goodbye.end())
        if name == a.TIMER_MAX_DURATION:
            return self.say_goodbye(MAX_DURATION_GOODBYE, EndCall(a.MAX_DURATION))
        if name.startswith(a.TIMER_SILENCE + ":"):
            out, ending = self.silence.fired(name)
            if ending is not None:
                out += self._leave(ending, now_ms)
            return out + self._silence_check()
        if name == a.TIMER_START:
            if self.stream_sid is None:
                return self.end(a.STREAM_CLOSED, "no start frame from Twilio")
            return []
        logger.warning("call %s: unknown timer %r", self.call_sid, name)
        return []

    def hang_up(self, requested_by: str, now_ms: int) -> list[Action]:
        """Somebody outside the call ends it now (Twilio then hangs up)."""
        if self.ended:
            return []
        row = self.transcript.system(f"Hung up by {requested_by}", now_ms)
        return [row, *self.end(a.HUNG_UP_BY_STAFF, ended_by=requested_by)]

    def transfer(
        self,
        to: str,
        message: str,
        requested_by: str,
        now_ms: int,
        *,
        interrupt: bool = True,
    ) -> list[Action]:
        """Hand the caller to ``to``: say ``message`` first (if any), then end the
        stream so that Twilio dials ``to`` (the ``<Connect action>`` answer).

        Without ``interrupt`` (the assistant asked for it) what it is saying
        plays out first, message or not.
        """
        if self.ended:
            return []
        text = f"Transferred to {to} by {requested_by}"
        row = self.transcript.system(f"{text}: {message}" if message else text, now_ms)
        end = EndCall(a.TRANSFERRED, ended_by=requested_by, transfer_to=to)
        if not message and interrupt:
            return [row, *self._end_with(end)]
        instructions = SAY_EXACTLY.format(message=message) if message else ""
        return [row, *self.say_goodbye(instructions, end, interrupt=interrupt)]

    def shut_down(self) -> list[Action]:
        """The server process is stopping: end the call (the caller hears the
        unavailable message from the ``<Connect action>``)."""
        return self.end(a.SERVER_SHUTDOWN, "the server process shut down")

    def _leave(self, ending: Ending, now_ms: int) -> list[Action]:
        """End the call the way a part asked (a key, a tool, the silence)."""
        if isinstance(ending, TransferTo):
            return self.transfer(
                ending.to,
                ending.message,
                ending.requested_by,
                now_ms,
                interrupt=ending.interrupt,
            )
        return self.say_goodbye(
            ending.instructions, ending.end, interrupt=ending.interrupt
        )

    # -- goodbye ----------------------------------------------------------------

    def say_goodbye(
        self, instructions: str, end: EndCall, *, interrupt: bool = False
    ) -> list[Action]:
        """Have the assistant say a last thing, then end the call with ``end``.

        Without ``interrupt`` the goodbye waits for the answer being spoken; with
        it, that answer is cut off like a barge-in. Caller audio stops at once.
        Empty ``instructions``: no words of its own, the call ends once what is
        being said has played.
        """
        if self.goodbye.asked:
            return self._end_with(end)  # a second goodbye: no time for words
        self.media.stop()
        if not self.configured:
            return self._end_with(end)
        out: list[Action] = [self.goodbye.begin(instructions, end)]
        if interrupt:
            out += self._barge_in()
            if self.responses.active:
                out += [SendEngine(text) for text in self.protocol.cancel()]
        if self.responses.active:
            return out  # pending: sent once the current answer is done
        return out + self._send_goodbye()

    def _send_goodbye(self) -> list[Action]:
        instructions = self.goodbye.send()
        if not instructions:
            return self._settle_goodbye()
        return [self._request(GOODBYE, instructions)]

    def _settle_goodbye(self) -> list[Action]:
        """End the call once the goodbye was said and has played."""
        if self.goodbye.said and not self.speech.playing:
            return self._end_with(self.goodbye.end())
        return []

    # -- shared helpers -------------------------------------------------------

    def _request(self, purpose: str, instructions: str | None) -> SendEngine:
        self.responses.requested(purpose)
        return SendEngine(self.protocol.request_response(instructions, tag=purpose))

    def _silence_check(self) -> list[Action]:
        """Start the silence clock when nobody speaks; stop it when anybody does."""
        idle = (
            self.configured
            and not self.ended
            and not self.media.stopped
            and not self.media.speaking
            and not self.responses.busy
            and not self.speech.playing
            and not self.tool_calls.pending
        )
        return self.silence.check(idle)

    def end(
        self,
        reason: str,
        error: str = "",
        close_code: int | None = None,
        *,
        ended_by: str = "",
        transfer_to: str = "",
    ) -> list[Action]:
        if self.ended:
            return []
        self.ended = True
        self.end_reason = reason
        if error:
            self.errors.insert(0, error)
        return [EndCall(reason, self.error, close_code, ended_by, transfer_to)]

    def _end_with(self, end: EndCall) -> list[Action]:
        return self.end(
            end.reason,
            end.error,
            end.close_code,
            ended_by=end.ended_by,
            transfer_to=end.transfer_to,
        )

    def _bad(self, side: str, reason: str) -> list[Action]:
        self.complaints.bad_input(side, reason)
        return []


_HANDLERS: dict[type, Callable[[CallState, Any, int], list[Action]]] = {
    ev.AssistantItemStarted: CallState._item_started,
    ev.AudioOutDone: CallState._audio_done,
    ev.SpeechStarted: CallState._speech_started,
    ev.SpeechStopped: CallState._speech_stopped,
    ev.CallerInputCommitted: CallState._committed,
    ev.CallerTranscript: CallState._caller_text,
    ev.CallerTranscriptFailed: CallState._caller_failed,
    ev.AssistantTranscript: CallState._assistant_text,
    ev.AssistantTranscriptDelta: CallState._assistant_delta,
    ev.ResponseStarted: CallState._response_started,
    ev.ResponseDone: CallState._response_done,
    ev.SessionConfigured: CallState._session_configured,
    ev.UsageReported: CallState._usage,
    ev.EngineError: CallState._error,
    ev.ToolCallRequested: CallState._tool_call,
}
