""" "Forget this caller": delete every recording and transcript of one phone number.

Used by ``manage.py forget_caller`` and the call admin's action. The calls that
count are those where the number is the other party: the caller of an inbound
call, the callee of an outbound one. The deployment's own numbers are refused
(they are on every call: forgetting one would wipe the whole history).

The call rows stay, with the number blanked: outcomes, durations and costs keep
the statistics truthful, and nothing left on them identifies the caller (the
``purge_note`` says what happened). Files go first, through the recordings'
storage; if one cannot be deleted nothing is written and the request can simply be
repeated. A ``ForgetRequest`` keeps the masked number, a SHA-256 of the number (to
answer "was mine deleted?" without keeping it) and the counts.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from assistants.models import PhoneNumber
from calls.models import (
    Call,
    CallDirection,
    ForgetRequest,
    Recording,
    TranscriptEntry,
)
from calls.retention import note_appended
from calls.review.masking import mask_number

logger = logging.getLogger(__name__)

PUNCTUATION_RE = re.compile(r"[\s().-]")


class ForgetError(ValueError):
    """The number cannot be forgotten (empty, or one of the deployment's own)."""


@dataclass(frozen=True, slots=True)
class ForgetPlan:
    number: str
    calls: int
    recordings: int
    transcript_entries: int

    @property
    def masked(self) -> str:
        return mask_number(self.number)


def normalized(number: str) -> str:
    """ "+1 (555) 123-4567" -> "+15551234567", as Twilio writes numbers."""
    return PUNCTUATION_RE.sub("", number)


def number_hash(number: str) -> str:
    return hashlib.sha256(normalized(number).encode()).hexdigest()


def caller_number(call: Call) -> str:
    """The other party's number on ``call``."""
    if call.direction == CallDirection.INBOUND:
        return call.from_number
    return call.to_number


def caller_calls(number: str) -> QuerySet[Call]:
    inbound = Q(direction=CallDirection.INBOUND)
    return Call.objects.filter(
        (inbound & Q(from_number=number)) | (~inbound & Q(to_number=number))
    )


def _checked(number: str) -> str:
    number = normalized(number)
    if not number:
        raise ForgetError("No phone number given.")
    if PhoneNumber.objects.filter(number=number).exists():
        raise ForgetError(
            "That is one of this deployment's own numbers, not a caller's."
        )
    return number


def forget_plan(number: str) -> ForgetPlan:
    """What ``caller_forget`` would delete."""
    number = _checked(number)
    calls = caller_calls(number)
    return ForgetPlan(
        number=number,
        calls=calls.count(),
        recordings=Recording.objects.filter(call__in=calls).count(),
        transcript_entries=TranscriptEntry.objects.filter(call__in=calls).count(),
    )


def caller_forget(*, number: str, requested_by: str) -> ForgetRequest:
    """Delete the number's recordings (files first) and transcripts, blank it on
    its calls, and record the request."""
    number = _checked(number)
    now = timezone.now()
    call_ids = list(caller_calls(number).values_list("id", flat=True))
    recordings = list(Recording.objects.filter(call_id__in=call_ids))
    for recording in recordings:
        recording.file.delete(save=False)
    recorded = {r.call_id for r in recordings}
    transcribed = set(
        TranscriptEntry.objects.filter(call_id__in=call_ids).values_list(
            "call_id", flat=True
        )
    )
    sentence = f"caller's data deleted on request on {timezone.localdate(now)}"
    with transaction.atomic():
        Recording.objects.filter(call_id__in=call_ids).delete()
        entries, _ = TranscriptEntry.objects.filter(call_id__in=call_ids).delete()
        for call in Call.objects.select_for_update().filter(id__in=call_ids):
            if call.id in recorded:
                call.recording_purged_at = now
            if call.id in transcribed:
                call.transcript_purged_at = now
            _blank(call, number, sentence)
        request = ForgetRequest.objects.create(
            number_masked=mask_number(number),
            number_hash=number_hash(number),
            requested_by=requested_by,
            calls=len(call_ids),
            recordings=len(recordings),
            transcript_entries=entries,
        )
    logger.info(
        "forgot caller %s: %d calls, %d recordings, %d transcript rows",
        request.number_masked,
        request.calls,
        request.recordings,
        request.transcript_entries,
    )
    return request


def _blank(call: Call, number: str, sentence: str) -> None:
    if call.from_number == number:
        call.from_number = ""
    if call.to_number == number:
        call.to_number = ""
    call.purge_note = note_appended(call.purge_note, sentence)
    call.save(
        update_fields=[
            "from_number",
            "to_number",
            "recording_purged_at",
            "transcript_purged_at",
            "purge_note",
        ]
    )
