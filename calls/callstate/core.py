"""CallBridge: one call's Twilio <-> Realtime state, sans I/O.

Feed it what happened (a Twilio frame, a Realtime event, a leg opening or closing, a
timer) with the current time in ms; it returns the actions to perform. No sockets,
no asyncio, no clock of its own, so barge-in, marks and ordering are plain unit
tests. Twilio-side handling lives here; the Realtime side in ``realtime_side``.
No Django.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendRealtime
from calls.callstate.realtime_side import RealtimeSide
from calls.callstate.turns import AssistantTurn, CallerTurn, parse_mark_name
from calls.engines import openai_realtime as realtime
from calls.telephony import media_stream as twilio_stream
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

# Caller audio held while the Realtime leg is still opening: 500 Twilio frames of
# 20 ms = 10 s. Beyond that the oldest frames are dropped (and counted).
DEFAULT_BUFFER_FRAMES = 500
GOODBYE_TIMEOUT_MS = 15_000
# Twilio sends start right after the upgrade; an early Realtime leg must not idle
# for an hour (OpenAI's session limit) if it never comes.
START_TIMEOUT_MS = 10_000
# Bad input is logged at WARNING this many times per call, then at DEBUG.
LOUD_BAD_FRAMES = 5


class CallBridge(RealtimeSide):
    """Twilio <-> Realtime call state. Pure: feed events in, get actions out.

    ``mark_interval_ms`` trades Twilio writes for playback precision: 0 puts a mark
    after every audio delta; N marks at most every N ms of audio. The first delta of
    an item and its last audio are always marked.
    """

    def __init__(
        self,
        *,
        call_sid: str,
        snapshot: dict[str, Any],
        mark_interval_ms: int = 0,
        buffer_frames: int = DEFAULT_BUFFER_FRAMES,
        goodbye_timeout_ms: int = GOODBYE_TIMEOUT_MS,
    ) -> None:
        self.call_sid = call_sid
        self.snapshot = snapshot
        self.mark_interval_ms = max(0, mark_interval_ms)
        self.goodbye_timeout_ms = goodbye_timeout_ms
        self.stream_sid: str | None = None
        self.started_ms = 0
        self.leg_open = False
        self.configured = False  # session.update sent; audio flows straight through
        self.input_stopped = False  # saying goodbye: no more caller audio
        self.buffer: deque[tuple[str, bool]] = deque(maxlen=max(1, buffer_frames))
        self.dropped_frames = 0
        self.bad_frames = 0
        self.ended = False
        self.end_reason = ""
        self.errors: list[str] = []
        self.next_seq = 1
        self.turns: dict[str, AssistantTurn] = {}
        self.live: list[AssistantTurn] = []  # turns not yet fully played
        self.caller_turns: dict[str, CallerTurn] = {}
        self._init_realtime_side()

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    @property
    def model(self) -> str:
        """The Realtime model (Azure: the deployment) for the connection URL."""
        return str(self.snapshot.get("model") or "")

    # -- Twilio side --------------------------------------------------------

    def on_accepted(self, now_ms: int) -> list[Action]:
        """The upgrade was accepted: Twilio's ``start`` is now due."""
        return [a.StartTimer(a.TIMER_START, START_TIMEOUT_MS)]

    def on_twilio_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            frame = twilio_stream.parse(text)
        except FrameError as exc:
            return self.bad_input("twilio", str(exc))
        return self.on_twilio(frame, now_ms)

    def on_twilio_binary(self, data: bytes) -> list[Action]:
        return self.bad_input("twilio", f"binary frame ({len(data)} bytes)")

    def on_twilio(self, frame: Frame, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if type(frame) is Media:
            if frame.stream_sid != self.stream_sid:
                return self.bad_input("twilio", "media for another or no stream")
            return self._caller_audio(frame.payload, frame.json_safe)
        if isinstance(frame, Start):
            return self._start(frame, now_ms)
        if isinstance(frame, Connected):
            return []
        if self.stream_sid is None or frame.stream_sid != self.stream_sid:
            return self.bad_input(
                "twilio", f"{type(frame).__name__} for another stream"
            )
        if isinstance(frame, Mark):
            return self._mark_echo(frame.name, now_ms)
        if isinstance(frame, Dtmf):
            seq = self.reserve_seq()
            return [
                a.SaveTranscript(
                    seq, a.SYSTEM, f"DTMF {frame.digit}", offset_ms=self.offset(now_ms)
                )
            ]
        if isinstance(frame, Stop):
            return self.end(a.CALLER_HUNG_UP)
        return self.bad_input("twilio", f"unexpected {type(frame).__name__}")

    def on_twilio_closed(self, now_ms: int) -> list[Action]:
        """Twilio's socket closed without a ``stop``."""
        return self.end(a.STREAM_CLOSED)

    def _start(self, frame: Start, now_ms: int) -> list[Action]:
        if self.stream_sid is not None:
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
        if not twilio_stream.is_safe_sid(frame.stream_sid):
            return self.end(
                a.AUTH_FAILED, "invalid streamSid in start", a.CLOSE_FORBIDDEN
            )
        encoding = frame.media_format.get("encoding", "audio/x-mulaw")
        if encoding != "audio/x-mulaw":
            logger.warning(
                "call %s: unexpected media encoding %r", self.call_sid, encoding
            )
        self.stream_sid = frame.stream_sid
        self.started_ms = now_ms
        out: list[Action] = [a.CallStarted(frame.stream_sid)]
        max_seconds = int(self.snapshot.get("max_call_duration_seconds") or 0)
        if max_seconds > 0:
            out.append(a.StartTimer(a.TIMER_MAX_DURATION, max_seconds * 1000))
        out += self._configure()
        return out

    def _caller_audio(self, payload: str, json_safe: bool) -> list[Action]:
        if self.configured:
            if self.input_stopped:
                return []
            return [SendRealtime(realtime.audio_append(payload, json_safe=json_safe))]
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped_frames += 1  # deque drops the oldest
        self.buffer.append((payload, json_safe))
        return []

    def _mark_echo(self, name: str, now_ms: int) -> list[Action]:
        parsed = parse_mark_name(name)
        turn = self.turns.get(parsed[0]) if parsed else None
        if turn is None or parsed is None:
            return self.bad_input("twilio", f"mark {name[:80]!r} we did not send")
        if turn.cleared:
            return []  # flushed by our clear: says nothing about what played
        turn.heard_ms = max(turn.heard_ms, min(parsed[1], turn.sent_ms))
        out: list[Action] = []
        if turn.heard_latency_ms is None and turn.stopped_ms is not None:
            turn.heard_latency_ms = max(0, now_ms - turn.stopped_ms)
            if turn.written:
                out.append(
                    a.SetLatency(turn.item_id, heard_latency_ms=turn.heard_latency_ms)
                )
        return out + self.settle(turn)

    # -- the Realtime leg's lifecycle ---------------------------------------

    def on_realtime_open(self, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        self.leg_open = True
        return self._configure()

    def on_realtime_failed(self, error: str) -> list[Action]:
        return self.end(a.REALTIME_ERROR, f"Realtime connect failed: {error}")

    def on_realtime_closed(
        self, code: int | None, reason: str, now_ms: int
    ) -> list[Action]:
        detail = f"code {code}: {reason}" if reason else f"code {code}"
        return self.end(
            a.REALTIME_DISCONNECTED, f"Realtime connection closed ({detail})"
        )

    def _configure(self) -> list[Action]:
        """Once the leg is open and the stream known: session, backlog, greeting."""
        if self.configured or not self.leg_open or self.stream_sid is None:
            return []
        self.configured = True
        out: list[Action] = [SendRealtime(realtime.session_update(self.snapshot))]
        out += [
            SendRealtime(realtime.audio_append(p, json_safe=s)) for p, s in self.buffer
        ]
        self.buffer.clear()
        if self.dropped_frames:
            logger.warning(
                "call %s: %d caller frames dropped while the Realtime leg opened",
                self.call_sid,
                self.dropped_frames,
            )
        greeting = self.snapshot.get("greeting") or ""
        if greeting:
            out.append(
                self.request_response(
                    "greeting", realtime.greeting_instructions(greeting)
                )
            )
        return out

    # -- timers ---------------------------------------------------------------

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if name == a.TIMER_GOODBYE:
            return self.end(a.MAX_DURATION)
        if name == a.TIMER_MAX_DURATION:
            return self.start_goodbye()
        if name == a.TIMER_START:
            if self.stream_sid is None:
                return self.end(a.STREAM_CLOSED, "no start frame from Twilio")
            return []
        logger.warning("call %s: unknown timer %r", self.call_sid, name)
        return []

    # -- shared helpers -------------------------------------------------------

    def end(
        self, reason: str, error: str = "", close_code: int | None = None
    ) -> list[Action]:
        if self.ended:
            return []
        self.ended = True
        self.end_reason = reason
        if error:
            self.errors.insert(0, error)
        return [EndCall(reason, self.error, close_code)]

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

    def reserve_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def offset(self, now_ms: int) -> int:
        return max(0, now_ms - self.started_ms) if self.stream_sid else 0
