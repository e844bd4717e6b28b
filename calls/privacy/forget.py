""" "Forget this caller": delete every recording and transcript of one phone number.

Used by ``manage.py forget_caller`` and the call admin's action. The calls that
count are those where the number is the other party: the caller of an inbound
call, the callee of an outbound one. The deployment's own numbers are refused
(they are on every call: forgetting one would wipe the whole history).

The call rows stay, with the number blanked: outcomes, durations and costs keep
the statistics truthful, and nothing left on them identifies the caller (the
``purge_note`` says what happened). Files go first, through the recordings'
storage; if one cannot be deleted nothing is written and the request can simply be
repeated. A ``ForgetRequest`` keeps the masked number, a keyed hash of the number
(HMAC-SHA256 under the deployment's SECRET_KEY, to answer "was mine deleted?"
without keeping it: a plain hash beside a masked number gives the number back in a
thousand guesses) and the counts. A caller on a call now is refused: what the call
still writes would escape the request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from assistants.models import PhoneNumber
from calls.models import (
    Call,
    CallDirection,
    CallStatus,
    ForgetRequest,
    Recording,
    TranscriptEntry,
)
from calls.privacy.masking import mask_number
from calls.services.erasure import caller_erase

logger = logging.getLogger(__name__)

PUNCTUATION_RE = re.compile(r"[\s().-]")
E164_RE = re.compile(r"\A\+[1-9]\d{1,14}\Z")
HASH_SALT = "calls.forget.number"
# As ``Call.is_live``: a call still open.
LIVE_STATUSES = (CallStatus.IN_PROGRESS, CallStatus.RINGING, CallStatus.QUEUED)


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
    """The number's keyed hash (HMAC-SHA256 with a key derived from SECRET_KEY)."""
    return salted_hmac(HASH_SALT, normalized(number), algorithm="sha256").hexdigest()


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
    if not E164_RE.match(number):
        raise ForgetError(
            f"{mask_number(number)} is not a phone number in E.164 form "
            "(a plus sign, the country code and the number, e.g. +15551234567)."
        )
    if PhoneNumber.objects.filter(number=number).exists():
        raise ForgetError(
            "That is one of this deployment's own numbers, not a caller's."
        )
    live = Q(ended_at__isnull=True) & Q(status__in=LIVE_STATUSES)
    if caller_calls(number).filter(live).exists():
        raise ForgetError(
            f"{mask_number(number)} is on a call now; forget them once it has "
            "ended (what the call still records would be left behind)."
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
    request = caller_erase(
        number=number,
        call_ids=list(caller_calls(number).values_list("id", flat=True)),
        number_masked=mask_number(number),
        number_hash=number_hash(number),
        requested_by=requested_by,
        sentence=f"caller's data deleted on request on {timezone.localdate(now)}",
        now=now,
    )
    logger.info(
        "forgot caller %s: %d calls, %d recordings, %d transcript rows",
        request.number_masked,
        request.calls,
        request.recordings,
        request.transcript_entries,
    )
    return request
