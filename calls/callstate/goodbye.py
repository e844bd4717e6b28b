"""The goodbye that ends a call politely, and how the call ends after it.

A goodbye carries the ``EndCall`` it leads to, so the same machinery ends a call
at max duration, after the assistant's ``end_call``, after a silence or after a
transfer message. It waits for the answer being spoken (unless it interrupts
it), is asked for as a response of its own, and ends the call once its audio has
played (or when its timer fires). No engine types, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from calls.callstate import actions as a
from calls.callstate.actions import EndCall, StartTimer
from calls.callstate.responses import GOODBYE
from calls.vocabulary.persona import Persona

GOODBYE_TIMEOUT_MS = 15_000
SAY_EXACTLY = "Say exactly this to the caller, then stop talking: {message}"
# When a goodbye has no words of its own configured.
GENERIC_GOODBYE = "Say a short, friendly goodbye to the caller, then stop talking."


def goodbye_words(persona: Persona) -> str:
    """Instructions to say the configured end_call goodbye; "" if none is set."""
    goodbye = persona.tools.end_call.goodbye
    return SAY_EXACTLY.format(message=goodbye) if goodbye else ""


@dataclass(frozen=True, slots=True)
class SayGoodbye:
    """A part asks for the call to end after a goodbye (``CallEnd.say_goodbye``)."""

    instructions: str
    end: EndCall
    interrupt: bool = False


@dataclass(frozen=True, slots=True)
class TransferTo:
    """A part asks for the caller to be handed on (``ending.CallEnd.transfer``)."""

    to: str
    message: str
    requested_by: str
    interrupt: bool = True


# How a part (a tool, a key, the silence) asks for the call to end.
EndRequest = SayGoodbye | TransferTo


class GoodbyeStage(Enum):
    PENDING = "pending"  # waiting for the current answer to finish
    REQUESTED = "requested"  # asked for; not generated yet
    GENERATED = "generated"  # all its audio came; the call ends once it played


@dataclass(slots=True)
class Goodbye:
    """The last thing the assistant says, and how the call ends after it."""

    instructions: str
    end: EndCall
    stage: GoodbyeStage = GoodbyeStage.PENDING


class Goodbyes:
    """The call's goodbye, once one was asked for (there is at most one)."""

    def __init__(self, timeout_ms: int = GOODBYE_TIMEOUT_MS) -> None:
        self.timeout_ms = timeout_ms
        self.current: Goodbye | None = None

    @property
    def asked(self) -> bool:
        return self.current is not None

    @property
    def stage(self) -> str:
        return self.current.stage.value if self.current else ""

    @property
    def saying(self) -> bool:
        """The goodbye is on its way: the caller cannot barge in on it."""
        return self.current is not None and self.current.stage in (
            GoodbyeStage.REQUESTED,
            GoodbyeStage.GENERATED,
        )

    @property
    def waiting(self) -> bool:
        """Asked for, and waiting for the current answer to finish."""
        return self.current is not None and self.current.stage is GoodbyeStage.PENDING

    def begin(self, instructions: str, end: EndCall) -> StartTimer:
        """A goodbye is asked for: it must be over before its timer fires."""
        self.current = Goodbye(instructions, end)
        return StartTimer(a.TIMER_GOODBYE, self.timeout_ms)

    def send(self) -> str:
        """The goodbye may be said now: its instructions ("": it has no words,
        the call ends once what is being said has played)."""
        goodbye = self.current
        if goodbye is None:
            return ""
        if not goodbye.instructions:
            goodbye.stage = GoodbyeStage.GENERATED
            return ""
        goodbye.stage = GoodbyeStage.REQUESTED
        return goodbye.instructions

    def generated(self) -> None:
        """Our goodbye response is done: all its audio came."""
        if self.current is not None:
            self.current.stage = GoodbyeStage.GENERATED

    def refused(self, tag: str) -> None:
        """The engine refused a request of ours: our goodbye's is retried after
        the active response."""
        if tag != GOODBYE:
            return
        if self.current is not None and self.current.stage is GoodbyeStage.REQUESTED:
            self.current.stage = GoodbyeStage.PENDING

    @property
    def said(self) -> bool:
        """All the goodbye's audio came: the call ends once it has played."""
        return self.current is not None and self.current.stage is GoodbyeStage.GENERATED

    def end(self) -> EndCall:
        """How the call ends after the goodbye (its timer fired, or it played)."""
        return self.current.end if self.current else EndCall(a.MAX_DURATION)
