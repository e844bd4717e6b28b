"""The silence clock: reprompt a caller who says nothing, then hang up.

The clock runs only while nobody speaks: the caller is not talking, no assistant
audio is being generated or playing, no tool is running. Each time it starts it
gets a new generation and a timer named after it, so a timer from an earlier
stretch (the caller spoke since) is recognised as stale and ignored. The reprompt
is said once per silence; the caller speaking resets that. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistants.tools import Silence
from calls.callstate.actions import TIMER_SILENCE

REPROMPT, HANG_UP = "reprompt", "hang_up"


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
