"""The transcript: turn order, the rows to write, and per-turn latency.

Rows get their ``seq`` (conversation order) when a turn begins, not when its text
arrives: a caller's transcript often lands after the assistant's answer to it;
a caller turn whose start is known late moves before the turns that began after
it, so rows are in the order they were spoken. An
assistant turn that answers the caller remembers when the caller stopped
speaking (their last audio reached us, mapped through the caller-audio clock) and
when the engine's VAD said so, so its reply latency (caller stopped -> first audio
sent), heard latency (-> first audio confirmed played, the headline) and the
engine's share (VAD event -> first audio) can be measured. No engine types, no
Django.
"""

from __future__ import annotations

import logging
from collections import deque

from calls.callstate import actions as a
from calls.callstate.actions import Action, SaveTranscript, SetLatency
from calls.callstate.continuation import Continuation
from calls.callstate.turn_order import in_spoken_order
from calls.callstate.turns import AssistantTurn, CallerTurn

logger = logging.getLogger(__name__)

INAUDIBLE = "[inaudible]"
# Turns kept that may still give up their place to an earlier caller turn (rows
# not written yet); a turn's transcript comes within a few turns.
RECENT_TURNS = 16


class Transcript:
    def __init__(
        self,
        *,
        transcribes_caller: bool,
        first_seq: int = 1,
        origin_ms: int = 0,
        call_sid: str = "",
    ) -> None:
        self.call_sid = call_sid  # for the log
        self.transcribes_caller = transcribes_caller
        # A later stream of a call (continued after a transfer nobody answered)
        # continues its rows: ``seq`` after the last one, and ``origin_ms``
        # where this stream starts on the call's timeline (0 for the first).
        self.next_seq = first_seq
        self.started_ms: int | None = None  # when Twilio's stream started
        self.origin_ms = origin_ms
        self.caller_turns: dict[str, CallerTurn] = {}
        # The latest turns given a place, for a caller turn heard late (see
        # ``_in_spoken_order``).
        self.recent: deque[AssistantTurn | CallerTurn] = deque(maxlen=RECENT_TURNS)
        # When the caller last stopped speaking (their last audio reached us) and
        # when the engine's end-of-speech event came, until an answer claims them.
        self.last_stopped_ms: int | None = None
        self.last_vad_ms: int | None = None

    @classmethod
    def of_stream(
        cls, call_sid: str, transcribes_caller: bool, continuation: Continuation | None
    ) -> Transcript:
        """The transcript of a call's stream: a later one continues the call's."""
        if continuation is None:
            return cls(transcribes_caller=transcribes_caller, call_sid=call_sid)
        return cls(
            transcribes_caller=transcribes_caller,
            first_seq=continuation.last_seq + 1,
            origin_ms=continuation.offset_ms,
            call_sid=call_sid,
        )

    def start(self, now_ms: int) -> None:
        """Twilio's stream started: offsets count from now."""
        self.started_ms = now_ms

    def reserve_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def offset(self, now_ms: int) -> int:
        """ms since the call's first stream started (0 before any did)."""
        if self.started_ms is None:
            return self.origin_ms
        return self.origin_ms + max(0, now_ms - self.started_ms)

    # -- rows outside the conversation -------------------------------------------

    def system(self, text: str, now_ms: int) -> SaveTranscript:
        """A system row (a keypad digit, a staff action) at this point in the call."""
        return SaveTranscript(
            self.reserve_seq(), a.SYSTEM, text, offset_ms=self.offset(now_ms)
        )

    # -- the caller ----------------------------------------------------------------

    def speech_started(
        self,
        item_id: str,
        audio_start_ms: int | None,
        now_ms: int,
        received_ms: int | None = None,
    ) -> None:
        """The caller began speaking at ``audio_start_ms`` of the engine's audio
        time, which reached us at ``received_ms`` (the caller-audio clock, when
        it knows): the turn starts there on the stream's timeline, as the
        assistant's turns do."""
        self.last_stopped_ms = self.last_vad_ms = None
        if self.transcribes_caller and item_id and item_id not in self.caller_turns:
            # A mapped time after now means the clock does not know that audio
            # (more than we sent): the engine's own time is all there is.
            if received_ms is not None and received_ms <= now_ms:
                offset = self.offset(received_ms)
            elif audio_start_ms is not None:
                offset = self.origin_ms + audio_start_ms
            else:
                offset = self.offset(now_ms)
            turn = CallerTurn(item_id, self.reserve_seq(), max(0, offset))
            self.caller_turns[item_id] = turn
            in_spoken_order(turn, self.recent)
            self.recent.append(turn)

    def key_pressed(self, now_ms: int) -> None:
        """A keypad digit reached us: what the assistant says next answers it,
        so the caller's wait is measured from now (there is no engine share)."""
        self.last_stopped_ms, self.last_vad_ms = now_ms, None

    def speech_stopped(self, caller_stopped_ms: int, now_ms: int | None = None) -> None:
        """The engine's end of speech came at ``now_ms``; the caller's last audio
        before it had reached us at ``caller_stopped_ms`` (the same by default)."""
        self.last_stopped_ms = caller_stopped_ms
        self.last_vad_ms = caller_stopped_ms if now_ms is None else now_ms

    def committed(self, item_id: str, now_ms: int) -> list[Action]:
        """The engine took a caller turn: its row's place is taken now."""
        if self.transcribes_caller:
            self._caller_turn(item_id, now_ms)
        return []

    def caller_text(self, item_id: str, text: str, now_ms: int) -> list[Action]:
        text = text.strip()
        if not text:
            return []
        turn = self._caller_turn(item_id, now_ms)
        turn.written = True
        return [SaveTranscript(turn.seq, a.CALLER, text, item_id, turn.offset_ms)]

    def untranscribed(self, item_id: str, now_ms: int, why: str = "") -> list[Action]:
        """A caller turn the engine could not transcribe: an inaudible row."""
        logger.info(
            "call %s: caller turn %s not transcribed: %s", self.call_sid, item_id, why
        )
        turn = self._caller_turn(item_id, now_ms)
        turn.written = True
        return [
            SaveTranscript(
                turn.seq, a.CALLER, INAUDIBLE, item_id, turn.offset_ms, failed=True
            )
        ]

    def _caller_turn(self, item_id: str, now_ms: int) -> CallerTurn:
        turn = self.caller_turns.get(item_id)
        if turn is None:
            turn = CallerTurn(item_id, self.reserve_seq(), self.offset(now_ms))
            self.caller_turns[item_id] = turn
        return turn

    # -- the assistant -------------------------------------------------------------

    def assistant_turn(
        self, item_id: str, response_id: str, now_ms: int, *, answers_caller: bool
    ) -> AssistantTurn:
        """A new assistant turn; one that answers the caller claims the last stop."""
        stopped = vad = None
        if answers_caller:
            stopped, vad = self.last_stopped_ms, self.last_vad_ms
            self.last_stopped_ms = self.last_vad_ms = None
        turn = AssistantTurn(
            item_id,
            response_id,
            self.reserve_seq(),
            self.offset(now_ms),
            stopped,
            vad_stopped_ms=vad,
        )
        self.recent.append(turn)
        return turn

    def assistant_text(self, turn: AssistantTurn) -> list[Action]:
        """The turn's transcript is known: write its row (if any of it was heard)."""
        if turn.interrupted and turn.heard_ms == 0 and not turn.written:
            return []  # cut off before the caller heard any of it
        return [self.assistant_row(turn)]

    def assistant_row(self, turn: AssistantTurn) -> SaveTranscript:
        turn.written = True
        return SaveTranscript(
            turn.seq,
            a.ASSISTANT,
            turn.text_heard(),
            turn.item_id,
            turn.offset_ms,
            interrupted=turn.interrupted,
            reply_latency_ms=turn.reply_latency_ms,
            heard_latency_ms=turn.heard_latency_ms,
            engine_latency_ms=turn.engine_latency_ms,
        )

    def audio_sent(self, turn: AssistantTurn, now_ms: int) -> list[Action]:
        """First audio of an answer went to Twilio: its reply latency."""
        if turn.reply_latency_ms is not None or turn.stopped_ms is None:
            return []
        turn.reply_latency_ms = max(0, now_ms - turn.stopped_ms)
        if turn.vad_stopped_ms is not None:
            turn.engine_latency_ms = max(0, now_ms - turn.vad_stopped_ms)
        if turn.written:
            return [
                SetLatency(
                    turn.item_id,
                    turn.reply_latency_ms,
                    engine_latency_ms=turn.engine_latency_ms,
                )
            ]
        return []

    def audio_heard(self, turn: AssistantTurn, now_ms: int) -> list[Action]:
        """Twilio confirmed audio of an answer played: its heard latency."""
        if turn.heard_latency_ms is not None or turn.stopped_ms is None:
            return []
        turn.heard_latency_ms = max(0, now_ms - turn.stopped_ms)
        if turn.written:
            return [SetLatency(turn.item_id, heard_latency_ms=turn.heard_latency_ms)]
        return []
