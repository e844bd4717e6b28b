"""The assistant's side: its audio to Twilio, what was heard, and barge-in.

Each engine audio item becomes an ``AssistantTurn`` (its transcript row's place
reserved when it begins); its chunks go to Twilio with marks (``playback``), and
mark echoes say how much the caller heard, for the heard latency and for where a
barge-in cuts the row and the engine's item. A cached greeting plays as a turn of
its own. Every chunk sent, heard or cleared is shown to the audio observer.
No Django.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine
from calls.callstate.greeting_replay import CACHED_ITEM_ID
from calls.callstate.playback import TwilioPlayback
from calls.callstate.responses import GREETING
from calls.callstate.transcript import Transcript
from calls.callstate.turns import AssistantTurn
from calls.callstate.view import AudioObserver, CallView
from calls.engines import base as ev

logger = logging.getLogger(__name__)

# Assistant audio sent that Twilio has not confirmed playing (its mark echoes).
# Answers arrive faster than real time, so tens of seconds queue normally; a
# peer that stopped reading would grow the server's send buffer without bound.
MAX_UNPLAYED_MS = 120_000


class Speech:
    def __init__(
        self,
        view: CallView,
        transcript: Transcript,
        observer: AudioObserver | None,
        mark_interval_ms: int = 0,
        talked_over: Callable[[], None] = lambda: None,
    ) -> None:
        self.view = view
        self.transcript = transcript
        self.observer = observer
        self.playback = TwilioPlayback(mark_interval_ms)
        # Told when a barge-in cut something off (a greeting being cached).
        self.talked_over = talked_over

    @property
    def playing(self) -> bool:
        return self.playback.playing

    def start(self, stream_sid: str, now_ms: int) -> None:
        """Twilio's stream started: the assistant's audio goes to it."""
        self.playback.start(stream_sid)
        if self.observer is not None:
            self.observer.stream_started(now_ms)

    def play_cached(
        self, chunks: Sequence[str], text: str, now_ms: int
    ) -> list[Action]:
        """A cache hit: the greeting plays now, before the engine is even open."""
        turn = self.transcript.assistant_turn(
            CACHED_ITEM_ID, "", now_ms, answers_caller=False
        )
        self.playback.add(turn)
        out: list[Action] = []
        for payload in chunks:
            out += self.playback.audio(turn, payload, True)
            if self.observer is not None:
                self.observer.assistant_audio(
                    turn.item_id, turn.sent_ms, payload, now_ms
                )
        turn.audio_done = True
        turn.transcript = text
        out += self.playback.final_mark(turn)
        return out + self.transcript.assistant_text(turn)

    def audio_out(self, event: ev.AudioOut, now_ms: int) -> list[Action] | EndCall:
        """A chunk of assistant audio ([]: cut off by a barge-in, or no stream;
        an ``EndCall``: Twilio stopped playing what it is sent)."""
        turn = self.playback.turns.get(event.item_id) or self._new_turn(
            event.item_id, event.response_id, now_ms
        )
        out = self.playback.audio(turn, event.payload, event.json_safe)
        if not out:
            return out
        if turn.sent_ms - turn.heard_ms > MAX_UNPLAYED_MS:
            return EndCall(
                a.STREAM_CLOSED,
                f"Twilio stopped reading: over {MAX_UNPLAYED_MS // 1000} s of "
                "assistant audio unplayed",
            )
        if self.observer is not None:
            self.observer.assistant_audio(
                turn.item_id, turn.sent_ms, event.payload, now_ms
            )
        # Only a turn after the caller's words has a latency (not a greeting).
        if turn.reply_latency_ms is None and turn.stopped_ms is not None:
            out += self.transcript.audio_sent(turn, now_ms)
        return out

    def _new_turn(self, item_id: str, response_id: str, now_ms: int) -> AssistantTurn:
        # Whatever asked for it (the model, a tool's answer or filler, a handoff,
        # a goodbye), the first audio after the caller's words is what they
        # waited for; only a greeting answers nobody.
        turn = self.transcript.assistant_turn(
            item_id,
            response_id,
            now_ms,
            answers_caller=self.view.purpose(response_id) != GREETING,
        )
        self.playback.add(turn)
        return turn

    def item_started(self, event: ev.AssistantItemStarted, now_ms: int) -> list[Action]:
        """An item began: its row's place is taken now, whenever its text comes."""
        if event.item_id not in self.playback.turns:
            self._new_turn(event.item_id, event.response_id, now_ms)
        return []

    def audio_done(self, item_id: str) -> list[Action] | None:
        """All of an item's audio came: its final mark (None: no such item)."""
        turn = self.playback.turns.get(item_id)
        return None if turn is None else self.finish(turn)

    def finish(self, turn: AssistantTurn) -> list[Action]:
        """All of a turn's audio came: its final mark; forgotten once played."""
        turn.audio_done = True
        out = self.playback.final_mark(turn)
        self.playback.settle(turn)
        return out

    def of_response(self, response_id: str) -> list[AssistantTurn]:
        """The turns of a response still playing."""
        return [t for t in self.playback.live if t.response_id == response_id]

    def echo(self, name: str, now_ms: int) -> tuple[bool, list[Action] | None]:
        """A mark came back: (is it one we sent, the heard latency's actions;
        None when it proves nothing: flushed by our clear)."""
        ours, turn = self.playback.echo(name)
        if turn is None:
            return ours, None
        if self.observer is not None:
            self.observer.assistant_heard(turn.item_id, turn.heard_ms, now_ms)
        out = self.transcript.audio_heard(turn, now_ms)
        self.playback.settle(turn)
        return True, out

    def barge_in(self) -> list[Action]:
        """Stop what the caller talks over: clear Twilio, truncate the engine's
        items at what was heard, rewrite their rows."""
        out, cut = self.playback.interrupt()
        if cut:
            self.talked_over()
        if out and self.observer is not None:
            self.observer.assistant_cleared()
        truncate = self.view.protocol.truncate
        for turn in cut:
            if turn.cleared and turn.item_id != CACHED_ITEM_ID:
                out += [
                    SendEngine(text) for text in truncate(turn.item_id, turn.heard_ms)
                ]
                logger.info(
                    "call %s: barge-in on %s at %d of %d ms sent",
                    self.view.call_sid,
                    turn.item_id,
                    turn.heard_ms,
                    turn.sent_ms,
                )
            if turn.written:
                out.append(self.transcript.assistant_row(turn))
        return out

    def text(self, item_id: str, text: str) -> list[Action]:
        """An item's transcript: its row (if any of it was heard)."""
        turn = self.playback.turns.get(item_id)
        if turn is None:
            logger.debug(
                "call %s: transcript for unknown item %s", self.view.call_sid, item_id
            )
            return []
        turn.transcript = text
        return self.transcript.assistant_text(turn)

    def late_texts(self, transcripts: tuple[tuple[str, str], ...]) -> list[Action]:
        """Transcripts that came with the response's end, for items that had no
        transcript event of their own."""
        out: list[Action] = []
        for item_id, text in transcripts:
            turn = self.playback.turns.get(item_id)
            if turn is not None and turn.transcript is None:
                turn.transcript = text
                out += self.transcript.assistant_text(turn)
        return out

    def delta(self, event: ev.AssistantTranscriptDelta) -> list[Action]:
        turn = self.playback.turns.get(event.item_id)
        if turn is None or turn.written or not event.delta:
            return []
        return [a.TranscriptDelta(turn.seq, event.delta)]
