"""Transfer numbers as a viewer may see them: one rule for every page, export and
live message that shows one.

A transfer destination is a third party's number. On a call whose persona redacts
phone numbers it reads as the redaction placeholder ("[phone number]") for
everyone, like the rest of the transcript; otherwise it is masked
(``mask_number``) for viewers who may not see callers' numbers in full.

System rows are stored text the call wrote ("Transferred to +1555... by alice",
"Transfer to +1555...: busy"). They keep the number and are shown through
``NumberRule.text``, which applies the same rule to every E.164 number in them,
rather than being written without it: rows already stored hold numbers, a call
transferred twice keeps each destination on record (the call row holds only the
last), and staff who may see numbers still read which number was dialled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from calls.privacy.masking import mask_number
from calls.privacy.redaction import PLACEHOLDERS
from calls.vocabulary.persona import Persona

PLACEHOLDER = PLACEHOLDERS["phone_number"]
# An E.164 number inside a sentence: "+" and 2-15 digits, not part of a longer
# run of digits or word.
E164_IN_TEXT = re.compile(r"(?<![\w+])\+[1-9]\d{1,14}(?![\w])")


@dataclass(frozen=True, slots=True)
class NumberRule:
    """How one viewer sees the transfer numbers of one call."""

    show: bool  # the viewer may see numbers in full
    redact: bool  # the call's persona redacts phone numbers

    def number(self, number: str) -> str:
        """A transfer destination ("" stays "")."""
        if not number:
            return number
        if self.redact:
            return PLACEHOLDER
        return number if self.show else mask_number(number)

    def text(self, text: str) -> str:
        """A system row's text with each number in it shown by the rule."""
        if self.show and not self.redact:
            return text
        return E164_IN_TEXT.sub(lambda match: self.number(match.group(0)), text)


def redacts_numbers(snapshot: object) -> bool:
    """Whether the call's persona (its snapshot) redacts phone numbers."""
    if not snapshot or not isinstance(snapshot, dict):
        return False
    return "phone_number" in Persona.from_snapshot(snapshot).redact


def rule_for(snapshot: object, *, show_numbers: bool) -> NumberRule:
    """The rule for a call (its persona snapshot) and a viewer."""
    return NumberRule(show=show_numbers, redact=redacts_numbers(snapshot))
