"""The call's one audio observer: its recording and, while anyone listens, a relay.

The call state is given a single observer at construction
(``calls.callstate.view.AudioObserver``) and shows it both sides of the call's
audio; this is the runner's. The recording is known when the call starts (or
there is none); a listen-in relay comes and goes with the listeners
(``calls.runtime.listen.Listening``). Called on the audio path: each method only
hands the audio on.
"""

from __future__ import annotations

from typing import Protocol


class RecordingTap(Protocol):
    """What a recording takes (``calls.runtime.recording.CallRecording``)."""

    def stream_started(self, now_ms: int) -> None: ...

    def caller_audio(self, payload: str, timestamp: str) -> None: ...

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None: ...

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None: ...

    def assistant_cleared(self) -> None: ...


class ListenTap(Protocol):
    """What a listen-in relay takes (``calls.runtime.listen.AudioRelay``): the
    audio the caller and the assistant hear, as base64 mu-law."""

    def caller_audio(self, payload: str) -> None: ...

    def assistant_audio(self, payload: str) -> None: ...

    def assistant_cleared(self) -> None: ...


class CallAudio:
    """The call's audio, to its recording and to the relay of the moment."""

    __slots__ = ("listener", "recording")

    def __init__(self, recording: RecordingTap | None = None) -> None:
        self.recording = recording
        # Set only while someone listens in: no cost otherwise.
        self.listener: ListenTap | None = None

    def listen(self, listener: ListenTap | None) -> None:
        """Somebody started listening in (a relay), or the last one stopped (None)."""
        self.listener = listener

    def stream_started(self, now_ms: int) -> None:
        if self.recording is not None:
            self.recording.stream_started(now_ms)

    def caller_audio(self, payload: str, timestamp: str, sent: bool) -> None:
        """Every caller frame is recorded; a listener hears what the engine does."""
        if self.recording is not None:
            self.recording.caller_audio(payload, timestamp)
        if sent and self.listener is not None:
            self.listener.caller_audio(payload)

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None:
        if self.listener is not None:
            self.listener.assistant_audio(payload)
        if self.recording is not None:
            self.recording.assistant_audio(item_id, end_ms, payload, now_ms)

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None:
        if self.recording is not None:
            self.recording.assistant_heard(item_id, heard_ms, now_ms)

    def assistant_cleared(self) -> None:
        if self.listener is not None:
            self.listener.assistant_cleared()
        if self.recording is not None:
            self.recording.assistant_cleared()
