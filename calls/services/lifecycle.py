"""A call from its status callbacks to its end: the stream's claim and start, the
running stream's heartbeat, why and when the call ended, and the sweep that ends
calls a dead process left open."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from calls.conf import app_settings
from calls.models import FINAL_STATUSES, Call, CallOutcome, CallStatus, EndReason
from calls.vocabulary.outcomes import call_outcome

logger = logging.getLogger(__name__)

# Twilio may deliver status callbacks late or out of order: a status only moves
# forward along this ranking, and any final status is final.
_STATUS_RANK: dict[str, int] = {
    CallStatus.QUEUED: 0,
    CallStatus.RINGING: 1,
    CallStatus.IN_PROGRESS: 2,
}
_FINAL_RANK = 3

# A running stream's runner touches its call this often (``CallRunner``); a call
# whose heartbeat is this many beats old has lost its process.
HEARTBEAT_SECONDS = 10
LOST_AFTER_BEATS = 3
CLOSE_STALE_ERROR = "closed as stale by `manage.py calls close-stale`"


@dataclass(frozen=True)
class StaleCall:
    call_sid: str
    end_reason: str


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


def call_claim_stream(*, call_sid: str, stream: int = 1) -> dict[str, Any] | None:
    """Mark the token of the call's stream number ``stream`` used; the snapshot,
    or None if already used.

    One UPDATE with a condition, so two processes racing with the same token cannot
    both win. Stream N is claimable only while the call has had N-1 streams and
    none is claimed (a later stream: the call was reopened by
    ``transfer.call_record_dial``), so a token works once and an earlier stream's
    never again.
    """
    claimed = (
        Call.objects.filter(
            call_sid=call_sid, streams=stream - 1, stream_claimed_at__isnull=True
        )
        .exclude(status__in=FINAL_STATUSES)
        .update(stream_claimed_at=timezone.now(), streams=stream)
    )
    if not claimed:
        return None
    snapshot: dict[str, Any] = Call.objects.values_list(
        "assistant_snapshot", flat=True
    ).get(call_sid=call_sid)
    return snapshot


def call_mark_started(*, call_sid: str, stream_sid: str) -> Call:
    """The media stream's ``start`` frame arrived: the call is in progress."""
    now = timezone.now()
    # A later stream of the call keeps the call's start (its timeline, duration).
    started_at = Coalesce(F("started_at"), Value(now), output_field=DateTimeField())
    Call.objects.filter(call_sid=call_sid).exclude(status__in=FINAL_STATUSES).update(
        stream_sid=stream_sid[:64], started_at=started_at, status=CallStatus.IN_PROGRESS
    )
    return Call.objects.select_related("assistant").get(call_sid=call_sid)


def call_heartbeat(*, call_sid: str) -> None:
    """The process running this call's stream is alive (``calls close-stale``)."""
    Call.objects.filter(call_sid=call_sid, ended_at__isnull=True).update(
        heartbeat_at=timezone.now()
    )


def call_record_end_reason(
    *, call_sid: str, end_reason: str, error: str = "", stream: int | None = None
) -> None:
    """Say why the call is ending before the stream closes.

    Twilio asks the ``<Connect action>`` what to do the moment our socket closes;
    the answer (apologise or not) depends on this reason, so it must land first.
    ``stream``: the number of the stream ending (``current_stream``).
    """
    changes: dict[str, str] = {"end_reason": end_reason}
    if error:
        changes["error"] = error[:4000]
    calls = current_stream(Call.objects.filter(call_sid=call_sid), stream)
    calls.filter(end_reason="").update(**changes)


def current_stream(calls: QuerySet[Call], stream: int | None) -> QuerySet[Call]:
    """``calls`` whose running stream is number ``stream`` (None: any).

    A stream's end must not end the call after it was reopened for the next
    stream (a transfer nobody answered): its stream number is then older than
    ``Call.streams``, or equal while the next stream is not yet claimed.
    """
    if stream is None:
        return calls
    return calls.filter(
        Q(streams__lt=stream) | Q(streams=stream, stream_claimed_at__isnull=False)
    )


def _stale_stream(call: Call, stream: int | None) -> bool:
    """The opposite of ``current_stream``, for a row already read."""
    if stream is None:
        return False
    return stream < call.streams or (
        stream == call.streams and call.stream_claimed_at is None
    )


def call_finish(
    *,
    call_sid: str,
    end_reason: str,
    error: str = "",
    bad_frames: int = 0,
    final_status: str = CallStatus.COMPLETED,
    stream: int | None = None,
) -> Call | None:
    """The stream ended: record why, when and how long. Idempotent.

    ``final_status`` applies only if Twilio's callback has not said already.
    ``stream``: the number of the stream that ended; the end of one the call has
    gone on from (reopened after a transfer nobody answered) is ignored (None).
    None (``calls close-stale``): whatever stream the call is on.
    """
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            logger.error("call_finish for unknown call %s", call_sid)
            return None
        if _stale_stream(call, stream):
            logger.info(
                "call %s: ignored the end of stream %s; the call is on stream %d%s",
                call_sid,
                stream,
                call.streams,
                "" if call.stream_claimed_at else " (next not yet claimed)",
            )
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
        unstreamed_for = dt.timedelta(seconds=app_settings().stream_token_ttl_seconds)
    now = timezone.now()
    open_calls = Call.objects.filter(ended_at__isnull=True).exclude(
        status__in=FINAL_STATUSES
    )
    lost = open_calls.filter(stream_claimed_at__isnull=False).filter(
        Q(heartbeat_at__lt=now - silent_for)
        | Q(heartbeat_at__isnull=True, stream_claimed_at__lt=now - silent_for)
    )
    # A reopened call (a transfer nobody answered) waits for its next stream
    # from when it was reopened (``transfer.call_record_dial`` sets the heartbeat).
    unstreamed = open_calls.filter(stream_claimed_at__isnull=True).filter(
        Q(streams=0, created_at__lt=now - unstreamed_for)
        | Q(streams__gt=0, heartbeat_at__lt=now - unstreamed_for)
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


def _set_outcome(call: Call, *, answered_by: str = "") -> None:
    """Store what the call came to (``calls.vocabulary.outcomes``), once it ended."""
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
