"""Turns inferred from GPT-Live's streams: the engine-neutral lifecycle. No Django.

GPT-Live has no turns on the wire: output audio is one continuous stream (silence
included), transcripts are timed deltas with no item id and no "done", and the
caller's speech has no start/stop events. The call state wants items. This
module makes them, the way ``openai.lib.live.TranscriptGrouper`` groups deltas
into segments (a speaker change or a gap closes a segment), plus the audio:

- An **assistant turn** opens with the first non-silent output audio (a new
  response and item id), and closes after ``ASSISTANT_SILENCE_MS`` of silent output
  (``AudioOutDone``/``ResponseDone``) with its transcript. Output transcript deltas
  join the open turn; one that lands after its turn closed (transcripts lag the
  audio, so its ``start_ms`` is before the turn went quiet) is added to that
  turn and its transcript sent again (the row is rewritten in place); one timed
  after waits for the next turn (text may come just before its audio). Silence
  between turns is not forwarded.
- A **caller turn** opens with an input transcript delta (``SpeechStarted`` at its
  ``start_ms``) and closes at a speaker change (the assistant starts a turn or an
  assistant transcript delta starts after it) or a gap of ``CALLER_GAP_MS``
  (``CallerTranscript`` with the joined text). Every caller delta is also a
  ``SpeechStopped`` at its ``end_ms``: the call state maps that session time
  (ms of caller audio) to when that audio reached us, so reply latency starts
  at the caller's last word even though the transcript lags it.
- **Barge-in**: a caller delta while an assistant turn is open closes that turn as
  cancelled right after ``SpeechStarted`` (so the call state clears Twilio), and
  output audio is then dropped until the model goes silent (at most
  ``STALE_MAX_MS``; audio after that is taken as a new turn).

Silence is recognised on the base64 text, without decoding: mu-law digital silence
is 0xFF (``////``) or 0x7F (``f39/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from calls.engines import base

ASSISTANT_SILENCE_MS = 600
CALLER_GAP_MS = 1500
LATE_MARGIN_MS = ASSISTANT_SILENCE_MS // 2
STALE_MAX_MS = 1000
BYTES_PER_MS = 8


def is_silence(payload: str) -> bool:
    """True if the base64 mu-law chunk is all 0xFF or all 0x7F bytes."""
    body = payload.rstrip("=")
    if not body:
        return True
    if body[0] == "/":
        return body.replace("////", "") in ("", "/w", "//8")
    return body[0] == "f" and body.replace("f39/", "") in ("", "fw", "f38")


def b64_ms(payload: str) -> int:
    n = len(payload)
    pad = 2 if payload.endswith("==") else 1 if payload.endswith("=") else 0
    return (n * 3 // 4 - pad) // BYTES_PER_MS


@dataclass(slots=True)
class _Assistant:
    response_id: str
    item_id: str
    parts: list[str] = field(default_factory=list)
    silent_ms: int = 0
    closed_at_ms: int = 0  # on the session timeline

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()


@dataclass(slots=True)
class _Caller:
    item_id: str
    start_ms: int
    end_ms: int
    parts: list[str] = field(default_factory=list)


class LiveTurns:
    """One call's inferred turns; ``clock_ms`` is the session timeline (the ms of
    caller audio sent, which is what GPT-Live's transcript times count)."""

    def __init__(self) -> None:
        self.clock_ms = 0
        self.assistant: _Assistant | None = None
        self.last_assistant: _Assistant | None = None
        self.caller: _Caller | None = None
        self.early_parts: list[str] = []  # assistant text before its audio
        self.stale_ms: int | None = None  # dropping a cut turn's tail
        self.turns = 0
        self.callers = 0
        self.barge_ins = 0

    # -- output audio (the hot path) ---------------------------------------------

    def audio(self, payload: str, json_safe: bool) -> base.EngineEvent:
        silent = is_silence(payload)
        if self.stale_ms is not None:
            if silent:
                self.stale_ms = None
                return base.Ignored("silence")
            self.stale_ms += b64_ms(payload)
            if self.stale_ms < STALE_MAX_MS:
                return base.Ignored("stale audio")
            self.stale_ms = None  # the model kept talking: a turn of its own
        turn = self.assistant
        if turn is not None:
            out = base.AudioOut(turn.response_id, turn.item_id, payload, json_safe)
            if not silent:
                turn.silent_ms = 0
                return out
            turn.silent_ms += b64_ms(payload)
            if turn.silent_ms < ASSISTANT_SILENCE_MS:
                return out
            return base.EngineEvents((out, *self._close_assistant("completed")))
        if silent:
            return base.Ignored("silence")
        opened = self._open_assistant()
        turn = self.assistant
        assert turn is not None
        out = base.AudioOut(turn.response_id, turn.item_id, payload, json_safe)
        return base.EngineEvents((*opened, out))

    def _open_assistant(self) -> list[base.EngineEvent]:
        out = self._close_caller()
        self.turns += 1
        turn = _Assistant(f"live_resp_{self.turns}", f"live_item_{self.turns}")
        turn.parts, self.early_parts = self.early_parts, []
        self.assistant = turn
        started = base.ResponseStarted(turn.response_id)
        return [
            *out,
            started,
            base.AssistantItemStarted(turn.response_id, turn.item_id),
        ]

    def _close_assistant(self, status: str) -> list[base.EngineEvent]:
        turn = self.assistant
        if turn is None:
            return []
        self.assistant = None
        turn.closed_at_ms = self.clock_ms
        self.last_assistant = turn
        out: list[base.EngineEvent] = []
        if turn.text:
            out.append(
                base.AssistantTranscript(turn.response_id, turn.item_id, turn.text)
            )
        done = base.ResponseDone(turn.response_id, status)
        return [*out, base.AudioOutDone(turn.response_id, turn.item_id), done]

    # -- transcripts ---------------------------------------------------------------

    def transcript(
        self, speaker: str, text: str, start_ms: int, end_ms: int
    ) -> base.EngineEvent:
        if speaker == "caller":
            return self._caller_delta(text, start_ms, end_ms)
        return self._assistant_delta(text, start_ms)

    def _assistant_delta(self, text: str, start_ms: int) -> base.EngineEvent:
        out: list[base.EngineEvent] = []
        caller = self.caller
        if caller is not None and start_ms >= caller.end_ms:
            out += self._close_caller()
        if self.assistant is not None:
            self.assistant.parts.append(text)
        else:
            last = self.last_assistant
            # A fragment timed before the last turn went quiet is that turn's
            # (transcripts lag the audio); later ones belong to the next turn
            # (they may come just before its audio).
            if last is not None and start_ms < last.closed_at_ms - LATE_MARGIN_MS:
                last.parts.append(text)
                out.append(
                    base.AssistantTranscript(last.response_id, last.item_id, last.text)
                )
            else:
                self.early_parts.append(text)
        return _events(out, "assistant transcript")

    def _caller_delta(self, text: str, start_ms: int, end_ms: int) -> base.EngineEvent:
        out: list[base.EngineEvent] = []
        caller = self.caller
        if caller is not None and start_ms - caller.end_ms >= CALLER_GAP_MS:
            out += self._close_caller()
            caller = None
        if caller is None:
            self.callers += 1
            caller = _Caller(f"live_caller_{self.callers}", start_ms, end_ms)
            self.caller = caller
            out.append(base.SpeechStarted(caller.item_id, start_ms))
            if self.assistant is not None:  # the caller talks over the assistant
                self.barge_ins += 1
                out += self._close_assistant("cancelled")
                self.stale_ms = 0
        caller.parts.append(text)
        caller.end_ms = max(caller.end_ms, end_ms)
        end = caller.end_ms
        out.append(base.SpeechStopped(caller.item_id, end, speech_end_ms=end))
        return _events(out, "caller transcript")

    def _close_caller(self) -> list[base.EngineEvent]:
        caller = self.caller
        if caller is None:
            return []
        self.caller = None
        text = "".join(caller.parts).strip()
        if not text:
            return [base.CallerTranscriptFailed(caller.item_id, "no text")]
        return [base.CallerTranscript(caller.item_id, text)]

    # -- control ---------------------------------------------------------------------

    def cut(self) -> None:
        """We stopped the assistant ourselves: drop its tail like a barge-in's."""
        if self.assistant is not None:
            self.stale_ms = 0

    def flush(self) -> list[base.EngineEvent]:
        """The session ended: close whatever is open."""
        return self._close_caller() + self._close_assistant("completed")


def _events(out: list[base.EngineEvent], what: str) -> base.EngineEvent:
    if not out:
        return base.Ignored(what)
    if len(out) == 1:
        return out[0]
    return base.EngineEvents(tuple(out))
