"""The caller's script: what the simulated person does, step by step.

Steps are plain dataclasses run in order by ``TwilioCaller``: speak (speech-like
signal or a WAV file's audio), wait for the assistant to finish, pause, barge in
while the assistant talks, press a key, hang up, or send a raw (possibly malformed)
message, or run a test hook. ``default_script`` is the usual call: hear the
greeting, say a few turns, optionally interrupt one answer, hang up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Speak:
    ms: int = 1600
    audio: bytes | None = None  # 8 kHz mu-law; None = the speech-like signal


@dataclass(frozen=True)
class WaitForReply:
    """Wait until the assistant has spoken and then been quiet for ``quiet_ms``."""

    quiet_ms: int = 600
    timeout_s: float = 15.0
    optional: bool = False  # no reply is not an error (e.g. no greeting configured)


@dataclass(frozen=True)
class Pause:
    ms: int


@dataclass(frozen=True)
class BargeIn:
    """Once the assistant's audio has played ``after_ms``, talk over it."""

    after_ms: int = 500
    speak_ms: int = 1200
    timeout_s: float = 15.0


@dataclass(frozen=True)
class WaitForAudio:
    """Wait until assistant audio is playing (arrived since this step began)."""

    timeout_s: float = 15.0


@dataclass(frozen=True)
class Hook:
    """Call ``function()`` (awaited if it returns an awaitable): test hooks."""

    function: Callable[[], Awaitable[None] | None]


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class KeyPress:
    """Press ``digits`` ``at_ms`` after the stream opened, whatever the script is
    doing (``CallerOptions.presses``, ``--press 0@2000``)."""

    digits: str
    at_ms: int = 0


DTMF_DIGITS = frozenset("0123456789*#")
# Between two keys of one press: Twilio reports each key as its own dtmf frame.
KEY_GAP_MS = 150


def parse_press(spec: str) -> KeyPress:
    """``KEYS@MS`` (``0@2000``; ``KEYS`` alone is at 0 ms) as a key press.

    Raises ValueError for keys a phone does not have or a bad time.
    """
    digits, _, at = spec.partition("@")
    digits = digits.strip()
    if not digits or set(digits) - DTMF_DIGITS:
        raise ValueError(f"{spec!r}: keys must be 0-9, * or #")
    try:
        at_ms = int(at) if at.strip() else 0
    except ValueError:
        raise ValueError(f"{spec!r}: the time after @ must be milliseconds") from None
    if at_ms < 0:
        raise ValueError(f"{spec!r}: the time must not be negative")
    return KeyPress(digits, at_ms)


@dataclass(frozen=True)
class SendRaw:
    """Send ``text`` as-is on the stream (for malformed-frame tests)."""

    text: str


@dataclass(frozen=True)
class HangUp:
    pass


Step = (
    Speak
    | WaitForReply
    | WaitForAudio
    | Pause
    | BargeIn
    | Hook
    | Dtmf
    | SendRaw
    | HangUp
)


def default_script(
    *,
    turns: int = 2,
    barge_in: bool = False,
    dtmf: str = "",
    speech_ms: int = 1600,
    quiet_ms: int = 600,
    audio: bytes | None = None,
) -> list[Step]:
    """Greeting, ``turns`` caller turns with replies, then hang up.

    With ``barge_in`` the caller interrupts the reply to the last turn, and
    waits for the answer to the interruption. ``dtmf`` keys are pressed after the
    greeting.
    """
    steps: list[Step] = [WaitForReply(quiet_ms, timeout_s=10.0, optional=True)]
    steps.extend(Dtmf(digit) for digit in dtmf)
    for turn in range(turns):
        steps.append(Speak(speech_ms, audio))
        if barge_in and turn == turns - 1:
            steps.append(BargeIn())
        steps.append(WaitForReply(quiet_ms))
    steps.append(HangUp())
    return steps


def echo_script(*, seconds: float) -> list[Step]:
    """Benchmark: talk continuously for ``seconds``, give the echo time, hang up."""
    return [Speak(int(seconds * 1000)), Pause(500), HangUp()]
