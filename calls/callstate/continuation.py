"""A call continued on a new stream: what the new call state starts from.

A call can have several media streams (the caller came back to the assistant
after a transfer nobody answered; later, a call carried over a crash or a
deploy). The new stream's engine session knows nothing, so it is seeded with the
conversation so far; its transcript rows continue the call's (``seq`` after the
last row, offsets on the call's timeline); and instead of the greeting the
assistant says why the caller is back. Pure: no Django, no engine types.
"""

from __future__ import annotations

from dataclasses import dataclass

from calls.vocabulary.persona import Persona

# Why a later stream continues the call: named by whoever reopened it (in the
# stream's token), never inferred from the call's row, so a note said once for
# one reason is not said again on a later resume for another.
TRANSFER_UNANSWERED = "transfer_unanswered"
RESUME_REASONS = frozenset({TRANSFER_UNANSWERED})

RESUME_INSTRUCTIONS = "The caller is back with you on the same call. Say: {note}"
NO_ANSWER_NOTE = (
    "Sorry, nobody at {destination} answered. I'm back with you. How else can I help?"
)
# What the caller is told, by how Twilio's <Dial> ended (DialCallStatus); any
# other outcome is told as unanswered.
DIAL_NOTES = {
    "busy": "Sorry, the line at {destination} was busy. I'm back with you. "
    "How else can I help?",
    "failed": "Sorry, the call to {destination} could not be connected. I'm back "
    "with you. How else can I help?",
}
UNNAMED_DESTINATION = "that line"


@dataclass(frozen=True)
class Continuation:
    """Where stream number ``stream`` of a call starts."""

    stream: int
    # The conversation so far: ("caller" | "assistant", text), in order.
    history: tuple[tuple[str, str], ...] = ()
    # The highest ``seq`` already written for the call (any role).
    last_seq: int = 0
    # ms from the call's start to this stream's start.
    offset_ms: int = 0
    # What the assistant says first, instead of the greeting ("" = greet).
    note: str = ""
    # Why the call goes on (``RESUME_REASONS``; "" = not said).
    reason: str = ""
    # Who answers this stream: the assistant the call was last handed to (None:
    # the call's own, from its snapshot).
    persona: Persona | None = None

    @property
    def instructions(self) -> str:
        return RESUME_INSTRUCTIONS.format(note=self.note) if self.note else ""


def resume_note(reason: str, destination_name: str = "", dial_status: str = "") -> str:
    """What the assistant says first on a stream continuing the call for
    ``reason`` ("": nothing special, it greets as usual)."""
    if reason == TRANSFER_UNANSWERED:
        return no_answer_note(destination_name, dial_status)
    return ""


def no_answer_note(destination_name: str, dial_status: str = "") -> str:
    """What the assistant says when a transfer's ``<Dial>`` was not answered:
    busy, failed, or nobody picked up (``dial_status``, Twilio's)."""
    note = DIAL_NOTES.get(dial_status, NO_ANSWER_NOTE)
    return note.format(destination=destination_name or UNNAMED_DESTINATION)
