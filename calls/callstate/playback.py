"""Twilio playback: assistant audio out as media frames, marks, clear, heard ms.

Every chunk of assistant audio goes to Twilio followed (per ``mark_interval_ms``)
by a mark named ``"<item_id>:<ms sent>"``; Twilio echoes a mark when the audio
before it has played, so the echo says how far playback got. On barge-in any turn
still playing is cleared at Twilio; the echoes of flushed marks then prove
nothing and are ignored. Knows Twilio, not the engine. No Django.
"""

from __future__ import annotations

from calls.callstate.actions import Action, SendTwilio
from calls.callstate.turns import AssistantTurn, b64_size, mark_name, parse_mark_name
from calls.telephony import media_stream


class TwilioPlayback:
    """The assistant turns sent to Twilio and what the marks prove was heard.

    ``mark_interval_ms`` trades Twilio writes for playback precision: 0 puts a mark
    after every chunk; N marks at most every N ms of audio. The first chunk of an
    item and its last audio are always marked.
    """

    def __init__(self, mark_interval_ms: int = 0) -> None:
        self.mark_interval_ms = max(0, mark_interval_ms)
        self.stream_sid: str | None = None
        self.turns: dict[str, AssistantTurn] = {}
        self.live: list[AssistantTurn] = []  # turns not yet fully played

    def start(self, stream_sid: str) -> None:
        """Twilio's stream started: audio and marks go to it from now on."""
        self.stream_sid = stream_sid

    def add(self, turn: AssistantTurn) -> None:
        self.turns[turn.item_id] = turn
        self.live.append(turn)

    @property
    def playing(self) -> bool:
        """Audio sent to Twilio that it has not confirmed playing."""
        return any(t.queued for t in self.live)

    def audio(self, turn: AssistantTurn, payload: str, json_safe: bool) -> list[Action]:
        """One chunk of ``turn``'s audio: the media frame and, when due, a mark."""
        size = b64_size(payload)
        turn.generated_bytes += size
        sid = self.stream_sid
        if turn.interrupted or sid is None:
            return []  # the caller cut this item off: never play the rest
        turn.sent_bytes += size
        out: list[Action] = [
            SendTwilio(media_stream.media(sid, payload, json_safe=json_safe))
        ]
        ms = turn.sent_bytes >> 3
        last = turn.marked_ms
        if last < 0 or (ms > last and ms - last >= self.mark_interval_ms):
            out.append(SendTwilio(media_stream.mark(sid, mark_name(turn.item_id, ms))))
            turn.marked_ms = ms
        return out

    def final_mark(self, turn: AssistantTurn) -> list[Action]:
        """Mark the end of a turn's audio, so its last echo says it all played."""
        sid = self.stream_sid
        if turn.interrupted or sid is None or turn.sent_ms <= turn.marked_ms:
            return []
        turn.marked_ms = turn.sent_ms
        return [
            SendTwilio(media_stream.mark(sid, mark_name(turn.item_id, turn.sent_ms)))
        ]

    def echo(self, name: str) -> tuple[bool, AssistantTurn | None]:
        """A mark came back: (is it one of ours, the turn whose playback it proves).

        A mark flushed by our clear is ours but proves nothing: (True, None).
        """
        parsed = parse_mark_name(name)
        turn = self.turns.get(parsed[0]) if parsed else None
        if turn is None or parsed is None:
            return False, None
        if turn.cleared:
            return True, None
        turn.heard_ms = max(turn.heard_ms, min(parsed[1], turn.sent_ms))
        return True, turn

    def interrupt(self) -> tuple[list[Action], list[AssistantTurn]]:
        """Stop everything still playing: the clear frame and the turns cut off.

        Each turn is marked interrupted (late audio for it is dropped); those with
        audio sent are also marked cleared (their pending echoes mean nothing).
        """
        if not self.live:
            return [], []
        out: list[Action] = []
        if self.stream_sid and self.playing:
            out.append(SendTwilio(media_stream.clear(self.stream_sid)))
        cut = list(self.live)
        for turn in cut:
            turn.interrupted = True
            if turn.sent_bytes:
                turn.cleared = True
        self.live.clear()
        return out, cut

    def settle(self, turn: AssistantTurn) -> None:
        """Forget a turn once all its audio played."""
        if turn.finished and turn in self.live:
            self.live.remove(turn)
