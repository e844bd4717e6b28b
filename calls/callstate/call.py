"""CallState: one call's Twilio <-> engine state, sans I/O.

Feed it what happened (a Twilio frame, an engine message, the leg opening or
closing, a timer, a tool result, a staff command) with the current time in ms; it
returns the actions to perform (``actions``). No sockets, no asyncio, no clock of
its own, so barge-in, marks and ordering are plain unit tests.

It is composed of parts that are objects of their own: ``TwilioPlayback`` (marks,
clear, heard ms), ``Transcript`` (turn order, rows, latency) and ``Responses``
(who asked for which response; the goodbye). It talks to the engine only through
the engine-neutral events and the ``EngineProtocol`` it is given
(``calls.engines``). No Django.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from assistants import tools as builtin
from assistants.persona import Persona
from calls.callstate import actions as a
from calls.callstate import silence as quiet
from calls.callstate.actions import Action, EndCall, SendEngine, ToolResult
from calls.callstate.caller_clock import CallerAudioClock
from calls.callstate.continuation import Continuation
from calls.callstate.greeting_replay import CACHED_ITEM_ID, GreetingReplay
from calls.callstate.playback import TwilioPlayback
from calls.callstate.responses import (
    GOODBYE,
    GREETING,
    REPROMPT,
    TOOL,
    Goodbye,
    GoodbyeStage,
    Responses,
)
from calls.callstate.silence import SilenceClock
from calls.callstate.tool_calls import PendingCall, ToolCalls, output
from calls.callstate.transcript import Transcript
from calls.callstate.turns import AssistantTurn
from calls.engines import base as ev
from calls.engines.base import EngineEventError, EngineProtocol
from calls.telephony import identifiers, media_stream
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

logger = logging.getLogger(__name__)

# Caller audio held while the engine leg is still opening: 500 Twilio frames of
# 20 ms = 10 s. Beyond that the oldest frames are dropped (and counted).
DEFAULT_BUFFER_FRAMES = 500
GOODBYE_TIMEOUT_MS = 15_000
# Twilio sends start right after the upgrade; an early engine leg must not idle
# for an hour (OpenAI's session limit) if it never comes.
START_TIMEOUT_MS = 10_000
# Bad input is logged at WARNING this many times per call, then at DEBUG.
LOUD_BAD_FRAMES = 5
# Assistant audio sent that Twilio has not confirmed playing (its mark echoes).
# Answers arrive faster than real time, so tens of seconds queue normally; a
# peer that stopped reading would grow the server's send buffer without bound.
MAX_UNPLAYED_MS = 120_000

GREETING_INSTRUCTIONS = "Greet the caller by saying: {greeting}"
MAX_DURATION_GOODBYE = (
    "Tell the caller the maximum call time is reached and say goodbye."
)
SAY_EXACTLY = "Say exactly this to the caller, then stop talking: {message}"
DTMF_NOTE = "The caller pressed {digit} on the phone keypad."
# When a goodbye or reprompt has no words of its own configured.
GENERIC_GOODBYE = "Say a short, friendly goodbye to the caller, then stop talking."
GENERIC_REPROMPT = "The caller has been silent. Ask briefly if they are still there."
# Who ended or transferred a call the assistant or the keypad ended (Call.ended_by).
BY_ASSISTANT = "assistant"
BY_KEYPAD = "keypad"


class AudioTap(Protocol):
    """Where a listened-to call's audio goes (``calls.runtime.listen``): both
    sides as base64 mu-law, in the order they pass through the call."""

    def caller_audio(self, payload: str) -> None: ...

    def assistant_audio(self, payload: str) -> None: ...

    def assistant_cleared(self) -> None:
        """Twilio was told to drop the assistant audio it had not played."""
        ...


class RecordingTap(Protocol):
    """Where a recorded call's audio goes (``calls.runtime.recording``): caller
    frames with their Twilio timestamp, assistant audio sent and what mark
    echoes prove was heard. Called on the audio path: it must only append."""

    def stream_started(self, now_ms: int) -> None: ...

    def caller_audio(self, payload: str, timestamp: str) -> None: ...

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None: ...

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None: ...

    def assistant_cleared(self) -> None: ...


class CallState:
    """Twilio <-> engine call state. Pure: feed events in, get actions out."""

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
    ) -> None:
        self.call_sid = call_sid
        self.persona = persona
        self.protocol = protocol
        self.engine_label = engine_label
        self.goodbye_timeout_ms = goodbye_timeout_ms
        self.connect_on_upgrade = connect_on_upgrade
        self.playback = TwilioPlayback(mark_interval_ms)
        self.transcript = Transcript(transcribes_caller=persona.transcribes_caller)
        # A later stream of the call: its rows continue the call's.
        self.continuation = continuation
        if continuation is not None:
            self.transcript.next_seq = continuation.last_seq + 1
            self.transcript.origin_ms = continuation.offset_ms
        self.caller_clock = CallerAudioClock()
        # Set by the runner only while someone listens in: no cost otherwise.
        self.tap: AudioTap | None = None
        # Set by the runner when the assistant records calls.
        self.recording: RecordingTap | None = None
        self.responses = Responses()
        self.engine_requested = False  # OpenEngine sent
        self.leg_open = False
        self.config_sent = False
        self.configured = False  # the engine takes audio: it flows straight through
        self.input_stopped = False  # saying goodbye: no more caller audio
        self.buffer: deque[tuple[str, bool]] = deque(maxlen=max(1, buffer_frames))
        self.dropped_frames = 0
        self.bad_frames = 0
        self.warnings: dict[str, int] = {}  # per warning class, for warn_limited
        self.ended = False
        self.end_reason = ""
        self.errors: list[str] = []
        self.tool_calls = ToolCalls()
        self.silence = SilenceClock()
        self.caller_speaking = False
        # The greeting cache (a later stream says no greeting of its own).
        self.greeting_replay = (
            greeting_replay if continuation is None and persona.greeting else None
        )

    @property
    def stream_sid(self) -> str | None:
        return self.playback.stream_sid

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    # -- Twilio side --------------------------------------------------------

    def on_accepted(self, now_ms: int) -> list[Action]:
        """The upgrade was accepted: Twilio's ``start`` is now due."""
        out: list[Action] = [a.StartTimer(a.TIMER_START, START_TIMEOUT_MS)]
        if self.connect_on_upgrade:
            out += self._open_engine()
        return out

    def on_twilio_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            frame = media_stream.parse(text)
        except FrameError as exc:
            return self.bad_input("twilio", str(exc))
        return self.on_twilio(frame, now_ms)

    def on_twilio_binary(self, data: bytes) -> list[Action]:
        return self.bad_input("twilio", f"binary frame ({len(data)} bytes)")

    def on_twilio(self, frame: Frame, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if type(frame) is Media:  # the hot one, 50 a second
            if frame.stream_sid != self.playback.stream_sid:
                return self.bad_input("twilio", "media for another or no stream")
            if self.recording is not None:
                self.recording.caller_audio(frame.payload, frame.timestamp)
            return self._caller_audio(frame.payload, frame.json_safe, now_ms)
        if isinstance(frame, Start):
            return self._start(frame, now_ms)
        if isinstance(frame, Connected):
            return []
        sid = self.playback.stream_sid
        if sid is None or frame.stream_sid != sid:
            return self.bad_input(
                "twilio", f"{type(frame).__name__} for another stream"
            )
        if isinstance(frame, Mark):
            return self._mark_echo(frame.name, now_ms)
        if isinstance(frame, Dtmf):
            return self._dtmf(frame.digit, now_ms)
        if isinstance(frame, Stop):
            return self.end(a.CALLER_HUNG_UP)
        return self.bad_input("twilio", f"unexpected {type(frame).__name__}")

    def _dtmf(self, digit: str, now_ms: int) -> list[Action]:
        """A keypad digit: a system row, and the model is told as text context."""
        out: list[Action] = [self.transcript.system(f"DTMF {digit}", now_ms)]
        action = self.persona.tools.keypad_action(digit)
        if action is not None and not self.input_stopped:
            keyed = self._keypad(action, now_ms)
            if keyed:
                return out + keyed
        if self.configured and not self.input_stopped:
            note = DTMF_NOTE.format(digit=digit)
            out += [SendEngine(text) for text in self.protocol.caller_note(note)]
        return out

    def _keypad(self, action: builtin.KeypadAction, now_ms: int) -> list[Action]:
        """A mapped digit acts without the model (an unknown destination: [])."""
        tools = self.persona.tools
        if action.transfer:
            target = tools.transfer_target(action.transfer)
            if target is None:
                return []
            return self.transfer(target.number, target.message, BY_KEYPAD, now_ms)
        return self.say_goodbye(
            self._goodbye_words() or GENERIC_GOODBYE,
            EndCall(a.ASSISTANT_ENDED),
            interrupt=True,
        )

    def on_twilio_closed(self, now_ms: int) -> list[Action]:
        """Twilio's socket closed without a ``stop``."""
        return self.end(a.STREAM_CLOSED)

    def _start(self, frame: Start, now_ms: int) -> list[Action]:
        if self.playback.stream_sid is not None:
            return self.bad_input("twilio", "duplicate start")
        if frame.call_sid != self.call_sid:
            logger.warning(
                "call %s: start for callSid %r does not match the token; refusing",
                self.call_sid,
                frame.call_sid[:64],
            )
            return self.end(
                a.AUTH_FAILED,
                "start.callSid does not match the token",
                a.CLOSE_FORBIDDEN,
            )
        if not identifiers.is_stream_sid(frame.stream_sid):
            return self.end(
                a.AUTH_FAILED, "invalid streamSid in start", a.CLOSE_FORBIDDEN
            )
        if frame.account_sid and not identifiers.is_account_sid(frame.account_sid):
            return self.end(
                a.AUTH_FAILED, "invalid accountSid in start", a.CLOSE_FORBIDDEN
            )
        encoding = frame.media_format.get("encoding", "audio/x-mulaw")
        if encoding != "audio/x-mulaw":
            logger.warning(
                "call %s: unexpected media encoding %r", self.call_sid, encoding
            )
        self.playback.stream_sid = frame.stream_sid
        self.transcript.started_ms = now_ms
        if self.recording is not None:
            self.recording.stream_started(now_ms)
        out: list[Action] = [a.CallStarted(frame.stream_sid)]
        if self.continuation is None:  # a later stream keeps the call's assistant
            out.append(a.AssistantJoined(self.persona.assistant_id, self.persona.name))
        max_seconds = self.persona.max_call_duration_seconds
        if max_seconds > 0:
            out.append(a.StartTimer(a.TIMER_MAX_DURATION, max_seconds * 1000))
        out += self._cached_greeting(now_ms)
        out += self._open_engine()
        out += self._configure()
        return out

    def _cached_greeting(self, now_ms: int) -> list[Action]:
        """A cache hit: the greeting plays now, before the engine is even open."""
        replay = self.greeting_replay
        if replay is None or not replay.chunks:
            return []
        turn = self.transcript.assistant_turn(
            CACHED_ITEM_ID, "", now_ms, answers_caller=False
        )
        self.playback.add(turn)
        out: list[Action] = []
        for payload in replay.chunks:
            out += self.playback.audio(turn, payload, True)
            if self.tap is not None:
                self.tap.assistant_audio(payload)
            if self.recording is not None:
                self.recording.assistant_audio(
                    turn.item_id, turn.sent_ms, payload, now_ms
                )
        turn.audio_done = True
        turn.transcript = self.persona.greeting
        out += self.playback.final_mark(turn)
        return out + self.transcript.assistant_text(turn)

    def _open_engine(self) -> list[Action]:
        if self.engine_requested:
            return []
        self.engine_requested = True
        return [a.OpenEngine()]

    def _caller_audio(self, payload: str, json_safe: bool, now_ms: int) -> list[Action]:
        if self.configured:
            if self.input_stopped:
                return []
            self.caller_clock.add(payload, now_ms)
            if self.tap is not None:
                self.tap.caller_audio(payload)
            return [
                SendEngine(self.protocol.append_audio(payload, json_safe=json_safe))
            ]
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped_frames += 1  # deque drops the oldest
            self.caller_clock.drop(self.buffer[0][0])
        self.caller_clock.add(payload, now_ms)
        self.buffer.append((payload, json_safe))
        return []

    def _mark_echo(self, name: str, now_ms: int) -> list[Action]:
        ours, turn = self.playback.echo(name)
        if not ours:
            return self.bad_input("twilio", f"mark {name[:80]!r} we did not send")
        if turn is None:
            return []
        if self.recording is not None:
            self.recording.assistant_heard(turn.item_id, turn.heard_ms, now_ms)
        out = self.transcript.audio_heard(turn, now_ms) + self._settle(turn)
        return out + self._silence_check() if self.silence_on else out

    # -- the engine leg's lifecycle -----------------------------------------

    def on_engine_open(self, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        self.leg_open = True
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
        if self.config_sent or not self.leg_open or self.playback.stream_sid is None:
            return []
        self.config_sent = True
        out: list[Action] = [SendEngine(text) for text in self.protocol.configure()]
        if self.protocol.waits_for_session:
            return out  # the rest once the engine confirms the session
        return out + self._session_ready()

    def _session_ready(self) -> list[Action]:
        """The engine takes audio and requests now: the backlog, the greeting."""
        self.configured = True
        out: list[Action] = []
        append = self.protocol.append_audio
        out += [SendEngine(append(p, json_safe=s)) for p, s in self.buffer]
        self.buffer.clear()
        if self.dropped_frames:
            logger.warning(
                "call %s: %d caller frames dropped while the engine leg opened",
                self.call_sid,
                self.dropped_frames,
            )
        resumed = self.continuation
        if resumed is not None:
            # The conversation so far, before anything is said in this session.
            turns = list(resumed.history)
            out += [SendEngine(text) for text in self.protocol.history(turns)]
            if resumed.instructions:  # instead of the greeting
                out.append(self._request(GREETING, resumed.instructions))
                return out
        replay = self.greeting_replay
        if replay is not None and replay.hit:
            # Already playing from the cache: the model only learns it said it.
            out += [SendEngine(text) for text in replay.said]
        elif self.persona.greeting:
            instructions = GREETING_INSTRUCTIONS.format(greeting=self.persona.greeting)
            out.append(self._request(GREETING, instructions))
            if replay is not None:
                replay.start_capture()
        return out + self._silence_check() if self.silence_on else out

    # -- engine events --------------------------------------------------------

    def on_engine_text(self, text: str | bytes, now_ms: int) -> list[Action]:
        try:
            event = self.protocol.parse(text)
        except EngineEventError as exc:
            return self.bad_input("engine", str(exc))
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
        return out + self._silence_check() if self.silence_on else out

    def _audio_out(self, event: ev.AudioOut, now_ms: int) -> list[Action]:
        replay = self.greeting_replay
        if (
            replay is not None
            and replay.capture is not None
            and self.responses.purpose(event.response_id) == GREETING
        ):
            replay.audio(event.response_id, event.payload)
        turn = self.playback.turns.get(event.item_id) or self._new_turn(
            event.item_id, event.response_id, now_ms
        )
        out = self.playback.audio(turn, event.payload, event.json_safe)
        if not out:
            return out  # cut off by a barge-in, or no stream yet
        if turn.sent_ms - turn.heard_ms > MAX_UNPLAYED_MS:
            return self.end(
                a.STREAM_CLOSED,
                f"Twilio stopped reading: over {MAX_UNPLAYED_MS // 1000} s of "
                "assistant audio unplayed",
            )
        if self.tap is not None:
            self.tap.assistant_audio(event.payload)
        if self.recording is not None:
            self.recording.assistant_audio(
                turn.item_id, turn.sent_ms, event.payload, now_ms
            )
        if self.tool_calls.result_ms is not None:
            self._tool_answer_audio(event.response_id, now_ms)
        # Only an answer to the caller has a latency (not a greeting or goodbye).
        if turn.reply_latency_ms is None and turn.stopped_ms is not None:
            out += self.transcript.audio_sent(turn, now_ms)
        return out

    def _new_turn(self, item_id: str, response_id: str, now_ms: int) -> AssistantTurn:
        turn = self.transcript.assistant_turn(
            item_id,
            response_id,
            now_ms,
            answers_caller=not self.responses.is_ours(response_id),
        )
        self.playback.add(turn)
        return turn

    def _item_started(
        self, event: ev.AssistantItemStarted, now_ms: int
    ) -> list[Action]:
        if event.item_id not in self.playback.turns:
            self._new_turn(event.item_id, event.response_id, now_ms)
        return []

    def _audio_done(self, event: ev.AudioOutDone, now_ms: int) -> list[Action]:
        turn = self.playback.turns.get(event.item_id)
        if turn is None:
            return []
        turn.audio_done = True
        return self.playback.final_mark(turn) + self._settle(turn)

    def _settle(self, turn: AssistantTurn) -> list[Action]:
        """Forget a turn once all its audio played; end a goodbye that finished."""
        self.playback.settle(turn)
        return self._settle_goodbye()

    def _speech_started(self, event: ev.SpeechStarted, now_ms: int) -> list[Action]:
        out = [] if self.responses.saying_goodbye else self._barge_in()
        self.caller_speaking = True
        self.silence.reprompted = False
        self.transcript.speech_started(event.item_id, event.audio_start_ms, now_ms)
        return out

    def _barge_in(self) -> list[Action]:
        """Stop what the caller talks over: clear Twilio, truncate at what was heard."""
        out, cut = self.playback.interrupt()
        if cut and self.greeting_replay is not None:
            self.greeting_replay.abort()  # a greeting talked over is not kept
        if out and self.tap is not None:
            self.tap.assistant_cleared()
        if out and self.recording is not None:
            self.recording.assistant_cleared()
        for turn in cut:
            if turn.cleared and turn.item_id != CACHED_ITEM_ID:
                out += [
                    SendEngine(text)
                    for text in self.protocol.truncate(turn.item_id, turn.heard_ms)
                ]
                logger.info(
                    "call %s: barge-in on %s at %d of %d ms sent",
                    self.call_sid,
                    turn.item_id,
                    turn.heard_ms,
                    turn.sent_ms,
                )
            if turn.written:
                out.append(self.transcript.assistant_row(turn))
        return out

    def _speech_stopped(self, event: ev.SpeechStopped, now_ms: int) -> list[Action]:
        # The caller stopped when their last audio before the end of speech reached
        # us, not when the VAD said so (it waits for silence first).
        end_ms = event.speech_end_ms
        if end_ms is None:
            end_ms = event.audio_end_ms
        heard = None if end_ms is None else self.caller_clock.received_ms(end_ms)
        caller_stopped = now_ms if heard is None else min(heard, now_ms)
        self.transcript.speech_stopped(caller_stopped, now_ms)
        self.caller_speaking = False
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
        turn = self.playback.turns.get(event.item_id)
        if turn is None:
            logger.debug(
                "call %s: transcript for unknown item %s", self.call_sid, event.item_id
            )
            return []
        turn.transcript = event.text
        return self.transcript.assistant_text(turn)

    def _assistant_delta(
        self, event: ev.AssistantTranscriptDelta, now_ms: int
    ) -> list[Action]:
        turn = self.playback.turns.get(event.item_id)
        if turn is None or turn.written or not event.delta:
            return []
        return [a.TranscriptDelta(turn.seq, event.delta)]

    def _response_started(self, event: ev.ResponseStarted, now_ms: int) -> list[Action]:
        self.responses.started(event.response_id)
        return []

    def _response_done(self, event: ev.ResponseDone, now_ms: int) -> list[Action]:
        out: list[Action] = []
        if event.usage:
            out.append(a.AddUsage(dict(event.usage)))
        self.responses.done(event.response_id)
        if self.greeting_replay is not None:
            self.greeting_replay.done(event.response_id, event.status == "completed")
        if event.status == "failed":
            if event.fatal:
                return out + self.end(
                    a.ENGINE_ERROR, f"{event.error_code}: {event.error_message}"
                )
            self.warn_limited(
                "response_failed",
                "call %s: response %s failed: %s %s",
                self.call_sid,
                event.response_id,
                event.error_code,
                event.error_message,
            )
        for item_id, text in event.transcripts:
            turn = self.playback.turns.get(item_id)
            if turn is not None and turn.transcript is None:
                turn.transcript = text  # no separate transcript event came
                out += self.transcript.assistant_text(turn)
        for turn in [
            t for t in self.playback.live if t.response_id == event.response_id
        ]:
            turn.audio_done = True
            out += self.playback.final_mark(turn) + self._settle(turn)
        goodbye = self.responses.goodbye
        if goodbye is not None:
            if self.responses.purpose(event.response_id) == GOODBYE:
                goodbye.stage = GoodbyeStage.GENERATED
                out += self._settle_goodbye()
            elif goodbye.stage is GoodbyeStage.PENDING:
                out += self._send_goodbye(goodbye)
        return out + self._answer_tools()

    def _session_configured(
        self, event: ev.SessionConfigured, now_ms: int
    ) -> list[Action]:
        if event.mismatch:
            logger.warning("call %s: %s", self.call_sid, event.mismatch)
        if self.config_sent and not self.configured:
            return self._session_ready()
        return []

    def _usage(self, event: ev.UsageReported, now_ms: int) -> list[Action]:
        return [a.AddUsage(dict(event.usage))] if event.usage else []

    def _error(self, event: ev.EngineError, now_ms: int) -> list[Action]:
        if event.kind in ("fatal", "expired"):
            logger.error(
                "call %s: fatal %s error %s",
                self.call_sid,
                self.engine_label,
                event.text,
            )
            expired = event.kind == "expired"
            return self.end(
                a.SESSION_EXPIRED if expired else a.ENGINE_ERROR, event.text
            )
        if event.kind == "config_rejected":
            what = event.context or "configuration"
            logger.warning(
                "call %s: %s rejected: %s (param %s)",
                self.call_sid,
                what,
                event.text,
                event.param,
            )
            # The session runs unconfigured (no transcription, wrong voice or
            # audio format): end now, the caller hears the unavailable message.
            return self.end(a.ENGINE_ERROR, f"{what} rejected: {event.text}")
        if event.tag:
            self.responses.refused(event.tag)
            if event.tag == TOOL:
                self.tool_calls.want_response = True  # asked again when free
        self.warn_limited(
            f"engine_error_{event.kind}",
            "call %s: %s error %s (request %s, param %s)",
            self.call_sid,
            self.engine_label,
            event.text,
            event.tag or "-",
            event.param,
            level=logging.INFO if event.kind == "benign" else logging.WARNING,
        )
        return []

    def _tool_call(self, event: ev.ToolCallRequested, now_ms: int) -> list[Action]:
        """The model called a function: a built-in is done here, the rest runs
        in the runner (off the audio path) and comes back in ``on_tool_result``."""
        if self.responses.goodbye is not None:
            logger.info(
                "call %s: tool %r ignored: the call is ending",
                self.call_sid,
                event.name[:64],
            )
            return []
        # The row's place is where the call happened, whenever the result comes.
        call = self.tool_calls.add(
            PendingCall(
                event.call_id,
                event.name,
                event.arguments,
                event.response_id,
                self.transcript.reserve_seq(),
                self.transcript.offset(now_ms),
                now_ms,
            )
        )
        tools = self.persona.tools
        if call.name == builtin.END_CALL and tools.end_call.enabled:
            return self._end_call_tool(call, now_ms)
        if call.name == builtin.TRANSFER_CALL and tools.transfer:
            return self._transfer_tool(call, now_ms)
        if call.name == builtin.HANDOFF and tools.handoff:
            return self._handoff_tool(call, now_ms)
        return [
            a.RunTool(
                event.call_id,
                event.name,
                event.arguments,
                event.item_id,
                event.response_id,
                requested_ms=now_ms,
            )
        ]

    def _end_call_tool(self, call: PendingCall, now_ms: int) -> list[Action]:
        out = self._tool_done(call, ToolResult(output(ok=True)), now_ms, answer=False)
        # No goodbye configured: the model's own last words play out first.
        return out + self.say_goodbye(self._goodbye_words(), EndCall(a.ASSISTANT_ENDED))

    def _transfer_tool(self, call: PendingCall, now_ms: int) -> list[Action]:
        name = call.argument("destination")
        target = self.persona.tools.transfer_target(name)
        if target is None:
            error = output(error=f"no transfer destination named {name[:64]!r}")
            return self._tool_done(call, ToolResult(error, a.TOOL_ERROR), now_ms)
        result = ToolResult(output(ok=True, destination=target.name))
        out = self._tool_done(call, result, now_ms, answer=False)
        return out + self.transfer(
            target.number, target.message, BY_ASSISTANT, now_ms, interrupt=False
        )

    def _goodbye_words(self) -> str:
        """Instructions to say the configured end_call goodbye; "" if none is set."""
        goodbye = self.persona.tools.end_call.goodbye
        return SAY_EXACTLY.format(message=goodbye) if goodbye else ""

    def _handoff_tool(self, call: PendingCall, now_ms: int) -> list[Action]:
        name = call.argument("assistant")
        target = self.persona.tools.handoff_target(name)
        if target is None or target.assistant_id is None:
            error = output(error=f"no assistant named {name[:64]!r} to hand off to")
            return self._tool_done(call, ToolResult(error, a.TOOL_ERROR), now_ms)
        return [a.LoadPersona(target.assistant_id, call.call_id)]

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
        call = self.tool_calls.pending.get(call_id)
        if call is None:  # not a call we saw: still give the model its output
            return self._give_output(call_id, result.output, now_ms, answer=True)
        out = self._tool_done(call, result, now_ms, duration_ms)
        return out + self._silence_check() if self.silence_on else out

    def on_handoff(
        self, call_id: str, persona: Persona | None, now_ms: int
    ) -> list[Action]:
        """The handoff target's persona loaded (None: it could not be): the
        conversation goes on under its instructions and tools, in the same voice."""
        call = self.tool_calls.pending.get(call_id)
        if self.ended or call is None:
            return []
        if persona is None:
            error = output(error="that assistant is not available")
            return self._tool_done(call, ToolResult(error, a.TOOL_ERROR), now_ms)
        # The session's engine, model and voice stay (the voice cannot change
        # once the model has spoken); the rest is the other assistant's.
        current = self.persona
        if persona.engine != current.engine:
            logger.warning(
                "call %s: handoff target %s runs on %s; staying on %s",
                self.call_sid,
                persona.assistant_id,
                persona.engine,
                current.engine,
            )
        self.persona = dataclasses.replace(
            persona,
            engine=current.engine,
            model=current.model,
            voice=current.voice,
        )
        out: list[Action] = [
            SendEngine(text) for text in self.protocol.reconfigure(self.persona)
        ]
        out.append(
            a.AssistantJoined(
                persona.assistant_id,
                persona.name,
                self.transcript.offset(now_ms),
                handoff=True,
            )
        )
        logger.info(
            "call %s: handed off to assistant %s", self.call_sid, persona.assistant_id
        )
        result = ToolResult(output(ok=True, assistant=persona.name))
        return out + self._tool_done(call, result, now_ms)

    def _tool_done(
        self,
        call: PendingCall,
        result: ToolResult,
        now_ms: int,
        duration_ms: int | None = None,
        *,
        answer: bool = True,
    ) -> list[Action]:
        """Write the call's row and send its output; ``answer``: the model is
        then asked to speak (when it may; see ``_answer_tools``)."""
        self.tool_calls.take(call.call_id)
        if duration_ms is None:
            duration_ms = max(0, now_ms - call.requested_ms)
        out: list[Action] = [
            a.SaveTranscript(
                call.seq,
                a.TOOL,
                result.output,
                offset_ms=call.offset_ms,
                tool_name=call.name,
                tool_arguments=call.arguments,
                tool_status=result.status,
                duration_ms=duration_ms,
            )
        ]
        return out + self._give_output(call.call_id, result.output, now_ms, answer)

    def _give_output(
        self, call_id: str, tool_output: str, now_ms: int, answer: bool
    ) -> list[Action]:
        """Send a call's output to the engine; ``answer``: then ask the model to
        speak (when it may; see ``_answer_tools``)."""
        if not self.configured:
            return []
        out: list[Action] = [
            SendEngine(text) for text in self.protocol.tool_result(call_id, tool_output)
        ]
        if answer:
            self.tool_calls.want_response = True
            self.tool_calls.result_ms = now_ms
            out += self._answer_tools()
        return out

    def _answer_tools(self) -> list[Action]:
        """Ask the model to answer the tool outputs, once that is allowed: every
        call of the batch answered, no response active or requested, no goodbye."""
        calls = self.tool_calls
        if (
            not calls.want_response
            or calls.pending
            or self.ended
            or self.responses.goodbye is not None
            or self.responses.active_response_id is not None
            or self.responses.own_requests
        ):
            return []
        calls.want_response = False
        return [self._request(TOOL, None)]

    def _tool_answer_audio(self, response_id: str, now_ms: int) -> None:
        """First audio of the answer to a tool result: how long it took."""
        calls = self.tool_calls
        if calls.result_ms is None or self.responses.purpose(response_id) != TOOL:
            return
        latency = max(0, now_ms - calls.result_ms)
        calls.result_ms = None
        calls.answer_latencies.append(latency)
        logger.info(
            "call %s: tool result -> first answer audio in %d ms",
            self.call_sid,
            latency,
        )

    # -- silence ------------------------------------------------------------

    @property
    def silence_on(self) -> bool:
        return quiet.configured(self.persona.tools.silence)

    def _silence_check(self) -> list[Action]:
        """Start the silence clock when nobody speaks; stop it when anybody does."""
        idle = (
            self.configured
            and not self.ended
            and not self.input_stopped
            and not self.caller_speaking
            and self.responses.active_response_id is None
            and not self.responses.own_requests
            and not self.playback.playing
            and not self.tool_calls.pending
        )
        if not idle:
            self.silence.disarm()
            return []
        if self.silence.armed:
            return []
        timer = self.silence.arm(self.persona.tools.silence)
        return [] if timer is None else [a.StartTimer(*timer)]

    def _silence_timer(self, name: str, now_ms: int) -> list[Action]:
        kind = self.silence.fired(name)
        silence = self.persona.tools.silence
        if kind == quiet.REPROMPT:
            self.silence.reprompted = True
            logger.info("call %s: caller silent; reprompting", self.call_sid)
            text = silence.reprompt
            said = SAY_EXACTLY.format(message=text) if text else GENERIC_REPROMPT
            return [self._request(REPROMPT, said)]
        if kind == quiet.HANG_UP:
            logger.info("call %s: caller silent; hanging up", self.call_sid)
            return self.say_goodbye(
                self._goodbye_words() or GENERIC_GOODBYE, EndCall(a.SILENCE_TIMEOUT)
            )
        return []  # stale: somebody spoke since

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if name == a.TIMER_GOODBYE:
            goodbye = self.responses.goodbye
            return self._end_with(goodbye.end if goodbye else EndCall(a.MAX_DURATION))
        if name == a.TIMER_MAX_DURATION:
            return self.say_goodbye(MAX_DURATION_GOODBYE, EndCall(a.MAX_DURATION))
        if name.startswith(a.TIMER_SILENCE + ":"):
            out = self._silence_timer(name, now_ms)
            return out + self._silence_check()
        if name == a.TIMER_START:
            if self.playback.stream_sid is None:
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
        if self.responses.goodbye is not None:
            return self._end_with(end)  # a second goodbye: no time for words
        self.input_stopped = True
        if not self.configured:
            return self._end_with(end)
        out: list[Action] = [a.StartTimer(a.TIMER_GOODBYE, self.goodbye_timeout_ms)]
        goodbye = Goodbye(instructions, end)
        self.responses.goodbye = goodbye
        if interrupt:
            out += self._barge_in()
            if self.responses.active_response_id is not None:
                out += [SendEngine(text) for text in self.protocol.cancel()]
        if self.responses.active_response_id is not None:
            return out  # pending: sent once the current answer is done
        return out + self._send_goodbye(goodbye)

    def _send_goodbye(self, goodbye: Goodbye) -> list[Action]:
        if not goodbye.instructions:
            goodbye.stage = GoodbyeStage.GENERATED
            return self._settle_goodbye()
        goodbye.stage = GoodbyeStage.REQUESTED
        return [self._request(GOODBYE, goodbye.instructions)]

    def _settle_goodbye(self) -> list[Action]:
        goodbye = self.responses.goodbye
        if (
            goodbye is not None
            and goodbye.stage is GoodbyeStage.GENERATED
            and not self.playback.playing
        ):
            return self._end_with(goodbye.end)
        return []

    def _request(self, purpose: str, instructions: str | None) -> SendEngine:
        self.responses.requested(purpose)
        return SendEngine(self.protocol.request_response(instructions, tag=purpose))

    # -- shared helpers -------------------------------------------------------

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

    def warn_limited(
        self, kind: str, message: str, *args: object, level: int = logging.WARNING
    ) -> None:
        """Log a warning class at ``level`` the first LOUD_BAD_FRAMES times per
        call, then at DEBUG: a peer repeating an error cannot flood the log."""
        count = self.warnings[kind] = self.warnings.get(kind, 0) + 1
        logger.log(level if count <= LOUD_BAD_FRAMES else logging.DEBUG, message, *args)

    def bad_input(self, side: str, reason: str) -> list[Action]:
        self.bad_frames += 1
        level = logging.WARNING if self.bad_frames <= LOUD_BAD_FRAMES else logging.DEBUG
        logger.log(
            level,
            "call %s: ignored bad %s input #%d: %s",
            self.call_sid,
            side,
            self.bad_frames,
            reason,
        )
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
