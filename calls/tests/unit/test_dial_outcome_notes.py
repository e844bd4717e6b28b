"""What the assistant says when a transfer comes back says how the dial ended."""

from __future__ import annotations

from calls.callstate.continuation import TRANSFER_UNANSWERED, resume_note


def test_a_busy_line_is_said_to_be_busy_not_unanswered() -> None:
    note = resume_note(TRANSFER_UNANSWERED, "reception", "busy")
    assert "was busy" in note and "nobody" not in note


def test_a_failed_dial_is_said_to_have_failed() -> None:
    note = resume_note(TRANSFER_UNANSWERED, "reception", "failed")
    assert "could not be connected" in note


def test_no_answer_and_a_cancelled_dial_are_unanswered() -> None:
    for status in ("no-answer", "canceled", ""):
        note = resume_note(TRANSFER_UNANSWERED, "reception", status)
        assert "nobody at reception answered" in note
