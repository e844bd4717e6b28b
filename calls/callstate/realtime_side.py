"""The Realtime half of CallBridge: assistant audio, marks, barge-in, transcripts.

A mixin so that ``core`` stays readable (responses, goodbye and errors are in
``responses``); it shares CallBridge's state. Key
rules: every audio delta goes to Twilio followed (per ``mark_interval_ms``) by a
mark named ``"<item_id>:<ms sent>"``; on ``speech_started`` any turn still playing
is cleared at Twilio and truncated at what the echoed marks prove was heard; late
deltas of an interrupted item are dropped. No Django.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from calls.callstate import actions as a
from calls.callstate.actions import Action, SendRealtime, SendTwilio
from calls.callstate.responses import ResponseHandling
from calls.callstate.turns import AssistantTurn, CallerTurn, b64_size, mark_name
from calls.engines import openai_realtime as realtime
from calls.engines.openai_realtime import (
    AudioDelta,
    AudioDone,
    AudioTranscriptDone,
    Committed,
    Error,
    FunctionCallArgumentsDone,
    InputTranscriptCompleted,
    InputTranscriptFailed,
    OutputItemAdded,
    ResponseCreated,
    ResponseDone,
    ServerEvent,
    SessionUpdated,
    SpeechStarted,
    SpeechStopped,
)
from calls.telephony import media_stream as twilio_stream

logger = logging.getLogger(__name__)

INAUDIBLE = "[inaudible]"


class RealtimeSide(ResponseHandling):
    # State owned by CallBridge.__init__, declared for type checkers.
    call_sid: str
    snapshot: dict[str, Any]
    stream_sid: str | None
    ended: bool
    configured: bool
    input_stopped: bool
    mark_interval_ms: int
    goodbye_timeout_ms: int
    errors: list[str]
    turns: dict[str, AssistantTurn]
    live: list[AssistantTurn]
    caller_turns: dict[str, CallerTurn]
    end: Callable[..., list[Action]]
    bad_input: Callable[[str, str], list[Action]]
    reserve_seq: Callable[[], int]
    offset: Callable[[int], int]

    def _init_realtime_side(self) -> None:
        self._init_responses()
        self.last_stopped_ms: int | None = None
        self.transcribe = bool(self.snapshot.get("transcription_model"))

    def on_realtime_text(self, text: str | bytes, now_ms: int) -> list[Action]:
        try:
            event = realtime.parse(text)
        except realtime.EventError as exc:
            return self.bad_input("realtime", str(exc))
        return self.on_realtime(event, now_ms)

    def on_realtime(self, event: ServerEvent, now_ms: int) -> list[Action]:
        if self.ended:
            return []
        if type(event) is AudioDelta:
            return self._audio_delta(event, now_ms)
        handler = _HANDLERS.get(type(event))
        if handler is None:
            logger.debug("call %s: realtime %s ignored", self.call_sid, event)
            return []
        return handler(self, event, now_ms)

    # -- assistant audio --------------------------------------------------------

    def _audio_delta(self, ev: AudioDelta, now_ms: int) -> list[Action]:
        turn = self.turns.get(ev.item_id) or self._new_turn(
            ev.item_id, ev.response_id, now_ms
        )
        size = b64_size(ev.delta)
        turn.generated_bytes += size
        sid = self.stream_sid
        if turn.interrupted or sid is None:
            return []  # the caller cut this item off: never play the rest
        turn.sent_bytes += size
        out: list[Action] = [
            SendTwilio(twilio_stream.media(sid, ev.delta, json_safe=ev.json_safe))
        ]
        ms = turn.sent_bytes >> 3
        last = turn.marked_ms
        if last < 0 or (ms > last and ms - last >= self.mark_interval_ms):
            out.append(SendTwilio(twilio_stream.mark(sid, mark_name(ev.item_id, ms))))
            turn.marked_ms = ms
        if turn.reply_latency_ms is None and turn.stopped_ms is not None:
            turn.reply_latency_ms = max(0, now_ms - turn.stopped_ms)
            if turn.written:
                out.append(a.SetLatency(turn.item_id, turn.reply_latency_ms))
        return out

    def _new_turn(self, item_id: str, response_id: str, now_ms: int) -> AssistantTurn:
        stopped = None
        if response_id not in self.response_purpose:
            stopped, self.last_stopped_ms = self.last_stopped_ms, None
        turn = AssistantTurn(
            item_id, response_id, self.reserve_seq(), self.offset(now_ms), stopped
        )
        self.turns[item_id] = turn
        self.live.append(turn)
        return turn

    def _item_added(self, ev: OutputItemAdded, now_ms: int) -> list[Action]:
        is_reply = ev.item_type == "message" and ev.role in ("assistant", "")
        if is_reply and ev.item_id not in self.turns:
            self._new_turn(ev.item_id, ev.response_id, now_ms)
        return []

    def _audio_done(self, ev: AudioDone, now_ms: int) -> list[Action]:
        turn = self.turns.get(ev.item_id)
        if turn is None:
            return []
        turn.audio_done = True
        return self._final_mark(turn) + self.settle(turn)

    def _final_mark(self, turn: AssistantTurn) -> list[Action]:
        sid = self.stream_sid
        if turn.interrupted or sid is None or turn.sent_ms <= turn.marked_ms:
            return []
        turn.marked_ms = turn.sent_ms
        return [
            SendTwilio(twilio_stream.mark(sid, mark_name(turn.item_id, turn.sent_ms)))
        ]

    def settle(self, turn: AssistantTurn) -> list[Action]:
        """Forget a turn once all its audio played; end a goodbye that finished."""
        if turn.finished and turn in self.live:
            self.live.remove(turn)
        return self.settle_goodbye()

    # -- caller speech and barge-in ------------------------------------------

    def _speech_started(self, ev: SpeechStarted, now_ms: int) -> list[Action]:
        self.last_stopped_ms = None
        out = [] if self.goodbye in ("requested", "generated") else self._barge_in()
        if self.transcribe and ev.item_id and ev.item_id not in self.caller_turns:
            start = ev.audio_start_ms
            offset = start if start is not None else self.offset(now_ms)
            self.caller_turns[ev.item_id] = CallerTurn(
                ev.item_id, self.reserve_seq(), max(0, offset)
            )
        return out

    def _barge_in(self) -> list[Action]:
        """Stop what the caller talks over: clear Twilio, truncate at what was heard."""
        if not self.live:
            return []
        out: list[Action] = []
        if self.stream_sid and any(t.queued for t in self.live):
            out.append(SendTwilio(twilio_stream.clear(self.stream_sid)))
        for turn in self.live:
            turn.interrupted = True
            if turn.sent_bytes:
                turn.cleared = True
                out.append(
                    SendRealtime(realtime.item_truncate(turn.item_id, turn.heard_ms))
                )
                logger.info(
                    "call %s: barge-in on %s at %d of %d ms sent",
                    self.call_sid,
                    turn.item_id,
                    turn.heard_ms,
                    turn.sent_ms,
                )
            if turn.written:
                out.append(self._save_assistant(turn))
        self.live.clear()
        return out

    def _speech_stopped(self, ev: SpeechStopped, now_ms: int) -> list[Action]:
        self.last_stopped_ms = now_ms
        return []

    def _committed(self, ev: Committed, now_ms: int) -> list[Action]:
        if self.transcribe:
            self._caller_turn(ev.item_id, now_ms)
        return []

    def _caller_turn(self, item_id: str, now_ms: int) -> CallerTurn:
        turn = self.caller_turns.get(item_id)
        if turn is None:
            turn = CallerTurn(item_id, self.reserve_seq(), self.offset(now_ms))
            self.caller_turns[item_id] = turn
        return turn

    def _input_done(self, ev: InputTranscriptCompleted, now_ms: int) -> list[Action]:
        text = ev.transcript.strip()
        if not text:
            return []
        turn = self._caller_turn(ev.item_id, now_ms)
        turn.written = True
        return [a.SaveTranscript(turn.seq, a.CALLER, text, ev.item_id, turn.offset_ms)]

    def _input_failed(self, ev: InputTranscriptFailed, now_ms: int) -> list[Action]:
        logger.info(
            "call %s: caller turn %s not transcribed: %s",
            self.call_sid,
            ev.item_id,
            ev.message,
        )
        turn = self._caller_turn(ev.item_id, now_ms)
        turn.written = True
        return [
            a.SaveTranscript(
                turn.seq, a.CALLER, INAUDIBLE, ev.item_id, turn.offset_ms, failed=True
            )
        ]

    # -- assistant transcript -------------------------------------------------

    def _transcript_done(self, ev: AudioTranscriptDone, now_ms: int) -> list[Action]:
        turn = self.turns.get(ev.item_id)
        if turn is None:
            logger.debug(
                "call %s: transcript for unknown item %s", self.call_sid, ev.item_id
            )
            return []
        turn.transcript = ev.transcript
        return self._write_assistant(turn)

    def _write_assistant(self, turn: AssistantTurn) -> list[Action]:
        if turn.interrupted and turn.heard_ms == 0 and not turn.written:
            return []  # cut off before the caller heard any of it
        return [self._save_assistant(turn)]

    def _save_assistant(self, turn: AssistantTurn) -> a.SaveTranscript:
        turn.written = True
        return a.SaveTranscript(
            turn.seq,
            a.ASSISTANT,
            turn.text_heard(),
            turn.item_id,
            turn.offset_ms,
            interrupted=turn.interrupted,
            reply_latency_ms=turn.reply_latency_ms,
            heard_latency_ms=turn.heard_latency_ms,
        )


_HANDLERS: dict[type, Callable[[Any, Any, int], list[Action]]] = {
    OutputItemAdded: RealtimeSide._item_added,
    AudioDone: RealtimeSide._audio_done,
    SpeechStarted: RealtimeSide._speech_started,
    SpeechStopped: RealtimeSide._speech_stopped,
    Committed: RealtimeSide._committed,
    InputTranscriptCompleted: RealtimeSide._input_done,
    InputTranscriptFailed: RealtimeSide._input_failed,
    AudioTranscriptDone: RealtimeSide._transcript_done,
    ResponseCreated: RealtimeSide._response_created,
    ResponseDone: RealtimeSide._response_done,
    SessionUpdated: RealtimeSide._session_updated,
    Error: RealtimeSide._error,
    FunctionCallArgumentsDone: RealtimeSide._tool_call,
}
