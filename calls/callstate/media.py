"""The caller's side of the stream: ``start`` checked, caller audio passed on.

Twilio's ``start`` must name the call the stream's token was signed for and carry
well-formed sids, or the stream is refused. Caller audio goes straight to the
engine once it takes audio; before that it is held in a bounded buffer (the
oldest frames dropped, and counted) and sent as a backlog. Every frame is timed
on the caller-audio clock, so reply latency can start from the caller's last
words. Once the goodbye starts, caller audio stops. No Django.
"""

from __future__ import annotations

import logging
from collections import deque

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine
from calls.callstate.caller_clock import CallerAudioClock
from calls.callstate.view import AudioObserver, CallView
from calls.engines.base import SpeechStopped
from calls.telephony import identifiers
from calls.telephony.media_stream import Start

logger = logging.getLogger(__name__)

# Caller audio held while the engine leg is still opening: 500 Twilio frames of
# 20 ms = 10 s. Beyond that the oldest frames are dropped (and counted).
DEFAULT_BUFFER_FRAMES = 500


def refusal(frame: Start, call_sid: str) -> EndCall | None:
    """Why a ``start`` is refused (the stream closes as forbidden), or None."""
    if frame.call_sid != call_sid:
        logger.warning(
            "call %s: start for callSid %r does not match the token; refusing",
            call_sid,
            frame.call_sid[:64],
        )
        return _forbidden("start.callSid does not match the token")
    if not identifiers.is_stream_sid(frame.stream_sid):
        return _forbidden("invalid streamSid in start")
    if frame.account_sid and not identifiers.is_account_sid(frame.account_sid):
        return _forbidden("invalid accountSid in start")
    encoding = frame.media_format.get("encoding", "audio/x-mulaw")
    if encoding != "audio/x-mulaw":
        logger.warning("call %s: unexpected media encoding %r", call_sid, encoding)
    return None


def _forbidden(error: str) -> EndCall:
    return EndCall(a.AUTH_FAILED, error, a.CLOSE_FORBIDDEN)


class CallerAudio:
    """Caller frames on their way to the engine, and when each reached us."""

    def __init__(
        self,
        view: CallView,
        observer: AudioObserver | None,
        buffer_frames: int = DEFAULT_BUFFER_FRAMES,
    ) -> None:
        self.view = view
        self.observer = observer
        self.clock = CallerAudioClock()
        self.buffer: deque[tuple[str, bool]] = deque(maxlen=max(1, buffer_frames))
        self.dropped_frames = 0
        self.speaking = False
        # The engine takes audio: frames go straight to it (``backlog`` first).
        self.flowing = False
        self.stopped = False  # saying goodbye: no more caller audio
        self._append = view.protocol.append_audio

    def frame(
        self, payload: str, timestamp: str, json_safe: bool, now_ms: int
    ) -> list[Action]:
        """A caller frame of the stream (the hot path: 50 a second)."""
        sent = self.flowing and not self.stopped
        if self.observer is not None:
            self.observer.caller_audio(payload, timestamp, sent)
        if sent:
            self.clock.add(payload, now_ms)
            return [SendEngine(self._append(payload, json_safe=json_safe))]
        if self.flowing:
            return []
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped_frames += 1  # deque drops the oldest
            self.clock.drop(self.buffer[0][0])
        self.clock.add(payload, now_ms)
        self.buffer.append((payload, json_safe))
        return []

    def backlog(self) -> list[Action]:
        """The engine takes audio now: what was held for it; from now on caller
        audio goes straight through."""
        self.flowing = True
        append = self._append
        out: list[Action] = [SendEngine(append(p, json_safe=s)) for p, s in self.buffer]
        self.buffer.clear()
        if self.dropped_frames:
            logger.warning(
                "call %s: %d caller frames dropped while the engine leg opened",
                self.view.call_sid,
                self.dropped_frames,
            )
        return out

    def stop(self) -> None:
        """The goodbye starts: caller audio no longer goes to the engine."""
        self.stopped = True

    def speech_started(self) -> None:
        self.speaking = True

    def speech_stopped(self, event: SpeechStopped, now_ms: int) -> int:
        """The engine's end of speech: when the caller's last audio before it
        reached us (not when the VAD said so: it waits for silence first)."""
        self.speaking = False
        end_ms = event.speech_end_ms
        if end_ms is None:
            end_ms = event.audio_end_ms
        heard = None if end_ms is None else self.clock.received_ms(end_ms)
        return now_ms if heard is None else min(heard, now_ms)
