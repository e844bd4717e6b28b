"""Which assistant answers a call: a number's own, else the fallback; the Call row
a voice webhook creates; and who took the call, at its start or by a handoff."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from calls.models import (
    Call,
    CallAssistant,
    CallDirection,
    CallOutcome,
    CallStatus,
    EndReason,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routing:
    """What the voice webhook decided for one incoming call."""

    call: Call
    assistant: Assistant | None
    phone_number: PhoneNumber | None


def assistant_for_number(number: str) -> tuple[Assistant | None, PhoneNumber | None]:
    """The assistant answering ``number``: its own, else the fallback, else None."""
    phone = (
        PhoneNumber.objects.select_related("assistant").filter(number=number).first()
    )
    if phone and phone.is_active and phone.assistant.is_active:
        return phone.assistant, phone
    fallback = Assistant.objects.filter(is_fallback=True, is_active=True).first()
    return fallback, phone


def call_route(
    *, call_sid: str, from_number: str, to_number: str, direction: str = ""
) -> Routing:
    """Create (or, on Twilio's retry, fetch) the Call for a voice webhook."""
    assistant, phone = assistant_for_number(to_number)
    if direction not in CallDirection.values:
        direction = CallDirection.INBOUND
    defaults: dict[str, Any] = {
        "from_number": from_number[:32],
        "to_number": to_number[:32],
        "direction": direction,
        "phone_number": phone,
        "assistant": assistant,
        "assistant_snapshot": assistant.snapshot() if assistant else {},
    }
    if assistant is None:
        defaults.update(
            status=CallStatus.REJECTED,
            end_reason=EndReason.REJECTED,
            outcome=CallOutcome.REJECTED,
            ended_at=timezone.now(),
            duration_seconds=0,
        )
    call, created = Call.objects.get_or_create(call_sid=call_sid, defaults=defaults)
    if not created:
        logger.info("voice webhook repeated for %s; reusing its call", call_sid)
        assistant = call.assistant if call.status != CallStatus.REJECTED else None
    return Routing(call=call, assistant=assistant, phone_number=call.phone_number)


def call_assistant_add(
    *,
    call_sid: str,
    assistant_id: int | None,
    name: str,
    offset_ms: int = 0,
    handoff: bool = False,
) -> None:
    """An assistant took the call: at its start, or by a handoff (counted)."""
    with transaction.atomic():
        call_id = Call.objects.values_list("pk", flat=True).get(call_sid=call_sid)
        exists = (
            assistant_id is not None
            and Assistant.objects.filter(pk=assistant_id).exists()
        )
        CallAssistant.objects.create(
            call_id=call_id,
            assistant_id=assistant_id if exists else None,
            name=name[:100],
            offset_ms=max(0, offset_ms),
            started_at=timezone.now(),
        )
        if handoff:
            Call.objects.filter(pk=call_id).update(handoffs=F("handoffs") + 1)
