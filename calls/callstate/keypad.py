"""Keypad digits: a system row, a mapped action, or a note for the model.

A digit the assistant maps to an action acts without the model: transfer to a
named destination, or end the call after the configured goodbye (cutting off
what is being said). Any other digit is told to the model as text context.
No Django.
"""

from __future__ import annotations

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine
from calls.callstate.goodbye import (
    GENERIC_GOODBYE,
    EndRequest,
    SayGoodbye,
    TransferTo,
    goodbye_words,
)
from calls.callstate.transcript import Transcript
from calls.callstate.view import CallView

DTMF_NOTE = "The caller pressed {digit} on the phone keypad."
# Who ended or transferred a call the keypad ended (Call.ended_by).
BY_KEYPAD = "keypad"


class Keypad:
    def __init__(self, view: CallView, transcript: Transcript) -> None:
        self.view = view
        self.transcript = transcript

    def pressed(
        self, digit: str, now_ms: int
    ) -> tuple[list[Action], EndRequest | None]:
        """A digit: its row, and how the call ends because of it (None: the
        model is told instead, once it listens)."""
        view = self.view
        out: list[Action] = [self.transcript.system(f"DTMF {digit}", now_ms)]
        if not view.input_stopped:
            self.transcript.key_pressed(now_ms)
        action = view.persona.tools.keypad_action(digit)
        if action is not None and not view.input_stopped:
            if action.transfer:
                target = view.persona.tools.transfer_target(action.transfer)
                if target is not None:
                    return out, TransferTo(target.number, target.message, BY_KEYPAD)
            else:
                words = goodbye_words(view.persona) or GENERIC_GOODBYE
                end = EndCall(a.ASSISTANT_ENDED)
                return out, SayGoodbye(words, end, interrupt=True)
        if view.configured and not view.input_stopped:
            note = DTMF_NOTE.format(digit=digit)
            out += [SendEngine(text) for text in view.protocol.caller_note(note)]
        return out, None
