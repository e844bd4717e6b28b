"""The silence clock: reprompt a caller who says nothing, then hang up.

The clock runs only while nobody speaks: the caller is not talking, no assistant
audio is being generated or playing, no tool is running. Each time it starts it
gets a new generation and a timer named after it, so a timer from an earlier
stretch (the caller spoke since) is recognised as stale and ignored. The reprompt
is said once per silence; the caller speaking resets that; the hang-up ends the
call after the configured goodbye. No Django.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from calls.callstate import actions as a
from calls.callstate.actions import (
    TIMER_SILENCE,
    Action,
    EndCall,
    StartTimer,
)
from calls.callstate.goodbye import (
    GENERIC_GOODBYE,
    SAY_EXACTLY,
    EndRequest,
    SayGoodbye,
    goodbye_words,
)
from calls.callstate.responses import REPROMPT as PROMPT_PURPOSE
from calls.callstate.view import CallView, Request
from calls.vocabulary.tools import Silence

logger = logging.getLogger(__name__)

REPROMPT, HANG_UP = "reprompt", "hang_up"
# When the reprompt has no words of its own configured.
GENERIC_REPROMPT = "The caller has been silent. Ask briefly if they are still there."


@dataclass(slots=True)
class SilenceClock:
    generation: int = 0
    armed: str = ""  # REPROMPT or HANG_UP while a live timer runs
    reprompted: bool = False

    def arm(self, silence: Silence) -> tuple[str, int] | None:
        """Start the clock: (timer name, delay ms), or None if nothing is due."""
        due = next_due(silence, self.reprompted)
        if due is None:
            return None
        self.generation += 1
        self.armed, delay_s = due
        return f"{TIMER_SILENCE}:{self.generation}", delay_s * 1000

    def disarm(self) -> None:
        if self.armed:
            self.armed = ""
            self.generation += 1  # the running timer is now stale

    def fired(self, name: str) -> str:
        """What a silence timer means now: REPROMPT, HANG_UP or "" (stale)."""
        _, _, generation = name.partition(":")
        if not self.armed or generation != str(self.generation):
            return ""
        kind, self.armed = self.armed, ""
        return kind


def next_due(silence: Silence, reprompted: bool) -> tuple[str, int] | None:
    """What comes next in a silence, and after how many seconds.

    After the reprompt (it played, the clock restarted), the hang-up comes when
    the silence has lasted ``hang_up_after_seconds`` counting the wait before it.
    """
    reprompt, hang_up = silence.reprompt_after_seconds, silence.hang_up_after_seconds
    if (
        not reprompted
        and reprompt is not None
        and reprompt > 0
        and (hang_up is None or reprompt < hang_up)
    ):
        return REPROMPT, reprompt
    if hang_up is None or hang_up <= 0:
        return None
    if reprompted and reprompt:
        return HANG_UP, max(1, hang_up - reprompt)
    return HANG_UP, hang_up


def configured(silence: Silence) -> bool:
    return bool(silence.reprompt_after_seconds or silence.hang_up_after_seconds)


class SilenceWatch:
    """The call's silence handling: when the clock runs, and what its timers do."""

    def __init__(self, view: CallView, request: Request) -> None:
        self.view = view
        self.request = request
        self.clock = SilenceClock()

    @property
    def on(self) -> bool:
        return configured(self.view.persona.tools.silence)

    @property
    def reprompted(self) -> bool:
        return self.clock.reprompted

    def caller_spoke(self) -> None:
        """The caller speaking resets the reprompt: a new silence gets its own."""
        self.clock.reprompted = False

    def after(self, out: list[Action]) -> list[Action]:
        """``out``, then the clock started or stopped (if silence is handled)."""
        return out + self.check() if self.on else out

    def check(self) -> list[Action]:
        """Start the clock when nobody speaks; stop it when anybody does."""
        view = self.view
        idle = (
            view.configured
            and not view.ended
            and not view.input_stopped
            and not view.caller_speaking
            and not view.responding
            and not view.playing
            and not view.tools_running
        )
        if not idle:
            self.clock.disarm()
            return []
        if self.clock.armed:
            return []
        timer = self.clock.arm(self.view.persona.tools.silence)
        return [] if timer is None else [StartTimer(*timer)]

    def fired(self, name: str) -> tuple[list[Action], EndRequest | None]:
        """A silence timer: the reprompt, or the hang-up (a stale one: nothing)."""
        kind = self.clock.fired(name)
        silence = self.view.persona.tools.silence
        if kind == REPROMPT:
            self.clock.reprompted = True
            logger.info("call %s: caller silent; reprompting", self.view.call_sid)
            text = silence.reprompt
            said = SAY_EXACTLY.format(message=text) if text else GENERIC_REPROMPT
            return [self.request(PROMPT_PURPOSE, said)], None
        if kind == HANG_UP:
            logger.info("call %s: caller silent; hanging up", self.view.call_sid)
            words = goodbye_words(self.view.persona) or GENERIC_GOODBYE
            return [], SayGoodbye(words, EndCall(a.SILENCE_TIMEOUT))
        return [], None  # stale: somebody spoke since
