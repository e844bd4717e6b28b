"""What the parts of a call state may know of the call, read-only.

``CallState`` routes each event to the part that owns it; a part that needs a
fact another part keeps (is the engine configured, is audio playing, which
response is ours) reads it from its ``CallView`` (``StateView``: the call
state's) instead of reaching into that part. The call's audio observer
(recording, listen-in) is declared here too: it is given to the call state
once, at construction. No Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from calls.callstate.actions import SendEngine
from calls.engines.base import EngineProtocol
from calls.vocabulary.persona import Persona

if TYPE_CHECKING:
    from calls.callstate.call import CallState

# Asks the engine for a response with this purpose and instructions (a part that
# needs an answer from the model is given ``CallState``'s, which keeps count).
Request = Callable[[str, str | None], SendEngine]


class CallView(Protocol):
    """The call's shared facts, as the parts read them (``StateView`` gives them)."""

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
    def transfer_refusal(self) -> str:
        """Why a transfer cannot be asked now ("": it can)."""
        ...

    @property
    def answering(self) -> bool:
        """A response is active (being generated)."""
        ...

    @property
    def playing(self) -> bool:
        """Assistant audio sent to Twilio that it has not confirmed playing."""
        ...

    @property
    def responding(self) -> bool:
        """A response is active, or one we asked for has not started."""
        ...

    @property
    def caller_speaking(self) -> bool: ...

    @property
    def tools_running(self) -> bool:
        """A function call has no output yet."""
        ...

    def purpose(self, response_id: str) -> str:
        """Why we asked for this response ("": the model's own answer)."""
        ...


class StateView:
    """The ``CallView`` a call state gives its parts: each fact read, when
    asked, from the part that owns it."""

    __slots__ = ("_state",)

    def __init__(self, state: CallState) -> None:
        self._state = state

    @property
    def call_sid(self) -> str:
        return self._state.call_sid

    @property
    def persona(self) -> Persona:
        return self._state.session.persona

    @property
    def protocol(self) -> EngineProtocol:
        return self._state.protocol

    @property
    def engine_label(self) -> str:
        return self._state.engine_label

    @property
    def stream_sid(self) -> str | None:
        return self._state.speech.playback.stream_sid

    @property
    def ended(self) -> bool:
        return self._state.call_end.ended

    @property
    def configured(self) -> bool:
        return self._state.session.configured

    @property
    def input_stopped(self) -> bool:
        return self._state.media.stopped

    @property
    def ending(self) -> bool:
        return self._state.call_end.goodbye_asked

    @property
    def transfer_refusal(self) -> str:
        return self._state.call_end.transfer_refusal

    @property
    def answering(self) -> bool:
        return self._state.responses.active

    @property
    def playing(self) -> bool:
        return self._state.speech.playback.playing

    @property
    def responding(self) -> bool:
        return self._state.responses.busy

    @property
    def caller_speaking(self) -> bool:
        return self._state.media.speaking

    @property
    def tools_running(self) -> bool:
        return self._state.tool_calls.pending

    def purpose(self, response_id: str) -> str:
        return self._state.responses.purpose(response_id)


class AudioObserver(Protocol):
    """Where a call's audio is observed (a recording, a listen-in relay): both
    sides in the order they pass through the call. Called on the audio path: it
    must only append."""

    def stream_started(self, now_ms: int) -> None: ...

    def caller_audio(self, payload: str, timestamp: str, sent: bool) -> None:
        """A caller frame of the stream arrived (with its Twilio timestamp);
        ``sent``: it went on to the engine (not held, not after the goodbye)."""
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
