"""What the parts of a call state may know of the call, read-only.

``CallState`` routes each event to the part that owns it; a part that needs a
fact another part keeps (is the engine configured, is anybody speaking, which
response is ours) reads it here instead of reaching into that part. The call's
audio observer (recording, listen-in) is declared here too: it is given to the
call state once, at construction. No Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from calls.callstate.actions import SendEngine
from calls.engines.base import EngineProtocol
from calls.vocabulary.persona import Persona

# Asks the engine for a response with this purpose and instructions (a part that
# needs an answer from the model is given ``CallState``'s, which keeps count).
Request = Callable[[str, str | None], SendEngine]


class CallView(Protocol):
    """The call's shared facts, as the parts read them (``CallState`` is one)."""

    @property
    def call_sid(self) -> str: ...

    @property
    def persona(self) -> Persona:
        """The assistant answering now (a handoff changes it)."""
        ...

    @property
    def protocol(self) -> EngineProtocol: ...

    @property
    def engine_label(self) -> str:
        """The engine's name in messages."""
        ...

    @property
    def stream_sid(self) -> str | None:
        """Twilio's stream, once its ``start`` checked out."""
        ...

    @property
    def ended(self) -> bool: ...

    @property
    def configured(self) -> bool:
        """The engine takes audio and response requests."""
        ...

    @property
    def input_stopped(self) -> bool:
        """Saying goodbye: caller audio no longer goes to the engine."""
        ...

    @property
    def ending(self) -> bool:
        """A goodbye was asked for: the call ends after it."""
        ...

    @property
    def responding(self) -> bool:
        """A response is active, or one we asked for has not started."""
        ...

    def purpose(self, response_id: str) -> str:
        """Why we asked for this response ("": the model's own answer)."""
        ...


class AudioObserver(Protocol):
    """Where a call's audio is observed (a recording, a listen-in relay): both
    sides in the order they pass through the call. Called on the audio path: it
    must only append."""

    def stream_started(self, now_ms: int) -> None: ...

    def caller_audio(self, payload: str, timestamp: str) -> None:
        """A caller frame of the stream arrived (with its Twilio timestamp)."""
        ...

    def caller_audio_sent(self, payload: str) -> None:
        """A caller frame went on to the engine."""
        ...

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None: ...

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None:
        """A mark echo proved this much of the item played."""
        ...

    def assistant_cleared(self) -> None:
        """Twilio was told to drop the assistant audio it had not played."""
        ...
