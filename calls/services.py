"""Database writes for calls: every change to a Call or its transcript goes here.

Synchronous functions with keyword-only arguments. Async code (the media consumer)
calls them through ``database_sync_to_async`` once per event that matters (a turn,
a usage report, the end of the call), never per audio frame.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from calls.models import (
    FINAL_STATUSES,
    Call,
    CallDirection,
    CallOutcome,
    CallStatus,
    EndReason,
    TranscriptEntry,
)
from calls.outcomes import call_outcome
from calls.usage import USAGE_FIELDS

logger = logging.getLogger(__name__)

# Twilio may deliver status callbacks late or out of order: a status only moves
# forward along this ranking, and any final status is final.
_STATUS_RANK: dict[str, int] = {
    CallStatus.QUEUED: 0,
    CallStatus.RINGING: 1,
    CallStatus.IN_PROGRESS: 2,
}
_FINAL_RANK = 3


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


def call_update_status(
    *,
    call_sid: str,
    status: str,
    duration_seconds: int | None = None,
    answered_by: str = "",
) -> Call:
    """Apply a Twilio status callback; repeated or stale callbacks change nothing.

    ``answered_by`` is Twilio's ``AnsweredBy`` (answering-machine detection on
    outbound calls), which can make the outcome ``voicemail``.
    """
    if status not in CallStatus.values:
        logger.warning("status callback for %s has unknown status %r", call_sid, status)
        status = CallStatus.FAILED if status else CallStatus.COMPLETED
    with transaction.atomic():
        call, created = Call.objects.select_for_update().get_or_create(
            call_sid=call_sid, defaults={"status": status}
        )
        if created:
            logger.warning("status callback for unknown call %s (%s)", call_sid, status)
        if call.status in FINAL_STATUSES and not created:
            # Already over (perhaps finalised by the stream): Twilio's own
            # duration is still the authoritative one.
            if duration_seconds is not None and status in FINAL_STATUSES:
                call.duration_seconds = duration_seconds
                call.save(update_fields=["duration_seconds"])
            return call
        if _rank(status) < _rank(call.status):
            return call
        call.status = status
        if status in FINAL_STATUSES:
            now = timezone.now()
            call.ended_at = call.ended_at or now
            if duration_seconds is not None:
                call.duration_seconds = duration_seconds
            elif call.duration_seconds is None:
                call.duration_seconds = _elapsed_seconds(call, call.ended_at)
            call.end_reason = call.end_reason or EndReason.STATUS_CALLBACK
            _set_outcome(call, answered_by=answered_by)
        call.save()
    return call


def call_claim_stream(*, call_sid: str) -> dict[str, Any] | None:
    """Mark the call's stream token used; the snapshot, or None if already used.

    One UPDATE with a condition, so two processes racing with the same token cannot
    both win.
    """
    claimed = (
        Call.objects.filter(call_sid=call_sid, stream_claimed_at__isnull=True)
        .exclude(status__in=FINAL_STATUSES)
        .update(stream_claimed_at=timezone.now())
    )
    if not claimed:
        return None
    return Call.objects.values_list("assistant_snapshot", flat=True).get(
        call_sid=call_sid
    )


def call_mark_started(*, call_sid: str, stream_sid: str) -> Call:
    """The media stream's ``start`` frame arrived: the call is in progress."""
    now = timezone.now()
    Call.objects.filter(call_sid=call_sid).exclude(status__in=FINAL_STATUSES).update(
        stream_sid=stream_sid[:64], started_at=now, status=CallStatus.IN_PROGRESS
    )
    return Call.objects.select_related("assistant").get(call_sid=call_sid)


# The engine's share of reply latency is stored once the field exists (added by
# issue 9's schema migration; until then the figure is measured but not kept).
_HAS_ENGINE_LATENCY = any(
    f.name == "engine_latency_ms" for f in TranscriptEntry._meta.get_fields()
)


def transcript_entry_add(
    *,
    call_sid: str,
    seq: int,
    role: str,
    text: str,
    item_id: str = "",
    offset_ms: int = 0,
    interrupted: bool = False,
    failed: bool = False,
    reply_latency_ms: int | None = None,
    heard_latency_ms: int | None = None,
    engine_latency_ms: int | None = None,
    tool_name: str = "",
    tool_arguments: str = "",
    tool_status: str = "",
    duration_ms: int | None = None,
) -> TranscriptEntry:
    """Write one finished turn. A repeat of the same ``seq`` updates it instead.

    Latency: caller stopped speaking (their last audio reached us) -> first
    assistant audio sent (``reply``) / confirmed played (``heard``); the engine's
    share (its end-of-speech event -> its first audio) is ``engine``.
    """
    call_id = Call.objects.values_list("pk", flat=True).get(call_sid=call_sid)
    defaults: dict[str, object] = {
        "role": role,
        "text": text,
        "item_id": item_id[:64],
        "offset_ms": max(0, offset_ms),
        "interrupted": interrupted,
        "failed": failed,
        "reply_latency_ms": reply_latency_ms,
        "heard_latency_ms": heard_latency_ms,
    }
    if _HAS_ENGINE_LATENCY:
        defaults["engine_latency_ms"] = engine_latency_ms
    if tool_name:  # a tool row (role "tool"): ``text`` is its output or error
        defaults.update(
            tool_name=tool_name[:64],
            tool_arguments=tool_arguments,
            tool_status=tool_status[:16],
            duration_ms=duration_ms,
        )
    entry, _ = TranscriptEntry.objects.update_or_create(
        call_id=call_id, seq=seq, defaults=defaults
    )
    return entry


def transcript_entry_set_latency(
    *,
    call_sid: str,
    item_id: str,
    reply_latency_ms: int | None = None,
    heard_latency_ms: int | None = None,
    engine_latency_ms: int | None = None,
) -> int:
    """Fill in a turn's latency figures once they are known; returns rows changed."""
    changes: dict[str, int] = {}
    if reply_latency_ms is not None:
        changes["reply_latency_ms"] = reply_latency_ms
    if heard_latency_ms is not None:
        changes["heard_latency_ms"] = heard_latency_ms
    if engine_latency_ms is not None and _HAS_ENGINE_LATENCY:
        changes["engine_latency_ms"] = engine_latency_ms
    if not changes:
        return 0
    return TranscriptEntry.objects.filter(
        call__call_sid=call_sid, item_id=item_id
    ).update(**changes)


def call_add_usage(*, call_sid: str, usage: dict[str, int]) -> None:
    """Add one response's token counts (keys from ``USAGE_FIELDS``) to the call."""
    increments = {
        name: F(name) + int(usage[name]) for name in USAGE_FIELDS if usage.get(name)
    }
    if increments:
        Call.objects.filter(call_sid=call_sid).update(**increments)


def call_record_end_reason(*, call_sid: str, end_reason: str, error: str = "") -> None:
    """Say why the call is ending before the stream closes.

    Twilio asks the ``<Connect action>`` what to do the moment our socket closes;
    the answer (apologise or not) depends on this reason, so it must land first.
    """
    changes: dict[str, str] = {"end_reason": end_reason}
    if error:
        changes["error"] = error[:4000]
    Call.objects.filter(call_sid=call_sid, end_reason="").update(**changes)


def call_finish(
    *,
    call_sid: str,
    end_reason: str,
    error: str = "",
    bad_frames: int = 0,
    final_status: str = CallStatus.COMPLETED,
) -> Call | None:
    """The stream ended: record why, when and how long. Idempotent.

    ``final_status`` applies only if Twilio's callback has not said already.
    """
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            logger.error("call_finish for unknown call %s", call_sid)
            return None
        call.bad_frames += bad_frames
        if error and error not in call.error:  # e.g. after call_note_error's note
            call.error = f"{call.error} {error}".strip()[:4000]
        if not call.end_reason:
            call.end_reason = end_reason
        if call.ended_at is None:
            call.ended_at = now
            call.duration_seconds = _elapsed_seconds(call, now)
        if call.status not in FINAL_STATUSES:
            call.status = final_status
        _set_outcome(call)
        call.save()
    return call


def call_note_error(*, call_sid: str, note: str) -> None:
    """Append a sentence to the call's ``error`` (e.g. writes lost in an outage)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            logger.error("call_note_error for unknown call %s", call_sid)
            return
        call.error = f"{call.error} {note}".strip()[:4000]
        call.save(update_fields=["error"])


@dataclass(frozen=True)
class StaleCall:
    call_sid: str
    end_reason: str


# A running stream's runner touches its call this often (``CallRunner``); a call
# whose heartbeat is this many beats old has lost its process.
HEARTBEAT_SECONDS = 10
LOST_AFTER_BEATS = 3
CLOSE_STALE_ERROR = "closed as stale by `manage.py calls close-stale`"


def call_heartbeat(*, call_sid: str) -> None:
    """The process running this call's stream is alive (``calls close-stale``)."""
    Call.objects.filter(call_sid=call_sid, ended_at__isnull=True).update(
        heartbeat_at=timezone.now()
    )


def calls_close_stale(
    *,
    silent_for: dt.timedelta = dt.timedelta(
        seconds=HEARTBEAT_SECONDS * LOST_AFTER_BEATS
    ),
    unstreamed_for: dt.timedelta | None = None,
    dry_run: bool = False,
    error: str = CLOSE_STALE_ERROR,
) -> list[StaleCall]:
    """Finalise calls left open by a process that died (``kill -9``, a crash).

    Two kinds: a stream was claimed but its process stopped sending heartbeats
    for ``silent_for`` (``process_lost``), or no stream ever opened for a call
    created ``unstreamed_for`` ago (``no_stream``: Twilio never connected, or our
    answer never reached it; default: the stream token's lifetime, after which it
    never can). Each call is finalised like ``call_finish`` would. Safe to run
    from several processes at once: only calls nobody is heartbeating qualify,
    and ``call_finish`` is idempotent.
    """
    if unstreamed_for is None:
        unstreamed_for = dt.timedelta(seconds=settings.STREAM_TOKEN_TTL_SECONDS)
    now = timezone.now()
    open_calls = Call.objects.filter(ended_at__isnull=True).exclude(
        status__in=FINAL_STATUSES
    )
    lost = open_calls.filter(stream_claimed_at__isnull=False).filter(
        Q(heartbeat_at__lt=now - silent_for)
        | Q(heartbeat_at__isnull=True, stream_claimed_at__lt=now - silent_for)
    )
    unstreamed = open_calls.filter(
        stream_claimed_at__isnull=True, created_at__lt=now - unstreamed_for
    )
    found = [
        StaleCall(sid, EndReason.PROCESS_LOST)
        for sid in lost.values_list("call_sid", flat=True)
    ] + [
        StaleCall(sid, EndReason.NO_STREAM)
        for sid in unstreamed.values_list("call_sid", flat=True)
    ]
    if dry_run:
        return found
    closed = []
    for stale in found:
        call = call_finish(
            call_sid=stale.call_sid,
            end_reason=stale.end_reason,
            error=error,
            final_status=CallStatus.FAILED,
        )
        if call is not None and call.end_reason == stale.end_reason:
            closed.append(stale)
    return closed


def call_record_control(
    *, call_sid: str, end_reason: str, ended_by: str, transfer_to: str = ""
) -> None:
    """Staff (or the command line) ended or transferred the call: say who, where.

    Written before the stream closes, like ``call_record_end_reason``, because
    the ``<Connect action>`` answer (``<Hangup/>`` or ``<Dial>``) depends on it.
    """
    Call.objects.filter(call_sid=call_sid, end_reason="").update(
        end_reason=end_reason, ended_by=ended_by[:150], transfer_to=transfer_to[:32]
    )


def _set_outcome(call: Call, *, answered_by: str = "") -> None:
    """Store what the call came to (``calls.outcomes``), once it has ended."""
    if call.outcome == CallOutcome.VOICEMAIL:
        return  # decided by Twilio's machine detection, which only it knows
    call.outcome = call_outcome(
        end_reason=call.end_reason,
        status=call.status,
        direction=call.direction,
        streamed=call.started_at is not None,
        error=call.error,
        answered_by=answered_by,
    )


def _rank(status: str) -> int:
    return _FINAL_RANK if status in FINAL_STATUSES else _STATUS_RANK.get(status, 0)


def _elapsed_seconds(call: Call, end: dt.datetime) -> int:
    start = call.started_at or call.created_at or end
    return max(0, round((end - start).total_seconds()))
