"""Database writes for calls: every change to a Call or its transcript goes here.

Synchronous functions with keyword-only arguments. Async code (the media consumer)
calls them through ``database_sync_to_async`` once per event that matters (a turn,
a usage report, the end of the call), never per audio frame.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from assistants.persona import Persona
from calls.callstate.continuation import RESUME_REASONS, Continuation, resume_note
from calls.models import (
    FINAL_STATUSES,
    Call,
    CallAssistant,
    CallDirection,
    CallOutcome,
    CallStatus,
    EndReason,
    TranscriptEntry,
    TranscriptRole,
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


def call_claim_stream(*, call_sid: str, stream: int = 1) -> dict[str, Any] | None:
    """Mark the token of the call's stream number ``stream`` used; the snapshot,
    or None if already used.

    One UPDATE with a condition, so two processes racing with the same token cannot
    both win. Stream N is claimable only while the call has had N-1 streams and
    none is claimed (a later stream: the call was reopened by
    ``call_record_dial``), so a token works once and an earlier stream's never
    again.
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
    return Call.objects.values_list("assistant_snapshot", flat=True).get(
        call_sid=call_sid
    )


def call_mark_started(*, call_sid: str, stream_sid: str) -> Call:
    """The media stream's ``start`` frame arrived: the call is in progress."""
    now = timezone.now()
    # A later stream of the call keeps the call's start (its timeline, duration).
    started_at = Coalesce(F("started_at"), Value(now), output_field=DateTimeField())
    Call.objects.filter(call_sid=call_sid).exclude(status__in=FINAL_STATUSES).update(
        stream_sid=stream_sid[:64], started_at=started_at, status=CallStatus.IN_PROGRESS
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


def call_record_end_reason(
    *, call_sid: str, end_reason: str, error: str = "", stream: int | None = None
) -> None:
    """Say why the call is ending before the stream closes.

    Twilio asks the ``<Connect action>`` what to do the moment our socket closes;
    the answer (apologise or not) depends on this reason, so it must land first.
    ``stream``: the number of the stream ending (``_current_stream``).
    """
    changes: dict[str, str] = {"end_reason": end_reason}
    if error:
        changes["error"] = error[:4000]
    calls = _current_stream(Call.objects.filter(call_sid=call_sid), stream)
    calls.filter(end_reason="").update(**changes)


def _current_stream(calls: Any, stream: int | None) -> Any:
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
    """The opposite of ``_current_stream``, for a row already read."""
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
    # A reopened call (a transfer nobody answered) waits for its next stream
    # from when it was reopened (``call_record_dial`` sets the heartbeat).
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


def call_record_control(
    *,
    call_sid: str,
    end_reason: str,
    ended_by: str,
    transfer_to: str = "",
    stream: int | None = None,
) -> None:
    """Staff (or the command line) ended or transferred the call: say who, where.

    Written before the stream closes, like ``call_record_end_reason``, because
    the ``<Connect action>`` answer (``<Hangup/>`` or ``<Dial>``) depends on it.
    ``stream``: the number of the stream ending (``_current_stream``).
    """
    calls = _current_stream(Call.objects.filter(call_sid=call_sid), stream)
    calls.filter(end_reason="").update(
        end_reason=end_reason, ended_by=ended_by[:150], transfer_to=transfer_to[:32]
    )


# ``DialCallStatus`` values after which the caller is with the person dialled
# (and the call ends when they hang up); any other brings them back.
DIAL_CONNECTED = frozenset({"answered", "completed"})


def call_record_dial(
    *, call_sid: str, dial_status: str, caller_on_line: bool = True
) -> int | None:
    """A transfer's ``<Dial action>``: record how the dial ended; the number of
    the stream that brings the caller back to the assistant, or None.

    Not answered (busy, no-answer, failed, canceled), a transferred call whose
    stream has ended is reopened: the first stream's end no longer finalises it
    (status in progress, no end, reason or outcome; the next stream's end will
    say), a system row says what happened, and stream ``streams + 1`` may open.
    Not when the caller hung up during the dial (``caller_on_line`` False: Twilio
    still posts the action, then its status callback ends the call).
    """
    dial_status = dial_status[:16] or "failed"
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            logger.error("dial action for unknown call %s", call_sid)
            return None
        call.transfer_status = dial_status
        reopen = (
            caller_on_line
            and dial_status not in DIAL_CONNECTED
            and call.end_reason == EndReason.TRANSFERRED
            and call.ended_at is not None
            and call.streams > 0
        )
        if not reopen:
            call.save(update_fields=["transfer_status"])
            return None
        call.status = CallStatus.IN_PROGRESS
        call.ended_at = None
        call.duration_seconds = None
        call.end_reason = ""
        call.ended_by = ""  # who transferred is in the transcript's system row
        call.outcome = ""
        # The next stream's token may be claimed now (and only now). Until it
        # is, ``calls close-stale`` counts the call's wait from this heartbeat.
        call.stream_claimed_at = None
        call.heartbeat_at = timezone.now()
        call.save()
        last = _last_seq(call)
    TranscriptEntry.objects.create(
        call=call,
        seq=last + 1,
        role=TranscriptRole.SYSTEM,
        text=f"Transfer to {call.transfer_to or 'nobody'}: {dial_status}",
        offset_ms=_offset_ms(call),
    )
    return call.streams + 1


def call_continuation(*, call_sid: str, stream: int, reason: str = "") -> Continuation:
    """Where stream number ``stream`` of the call starts: the conversation so
    far, the last ``seq``, the offset on the call's timeline, who answers and
    what they say first.

    ``reason``: why the call goes on, as whoever reopened it said (the stream's
    token), e.g. ``transfer_unanswered``; an unknown one is treated as none.
    """
    call = Call.objects.select_related("assistant").get(call_sid=call_sid)
    rows = call.transcript_entries.filter(
        role__in=(TranscriptRole.CALLER, TranscriptRole.ASSISTANT), failed=False
    ).order_by("seq")
    history = tuple((row.role, row.text) for row in rows if row.text)
    if reason and reason not in RESUME_REASONS:
        logger.warning("call %s: unknown resume reason %r", call_sid, reason[:32])
        reason = ""
    return Continuation(
        stream=stream,
        history=history,
        last_seq=_last_seq(call),
        offset_ms=_offset_ms(call),
        note=resume_note(reason, _destination_name(call)),
        reason=reason,
        persona=_handed_to(call),
    )


def _handed_to(call: Call) -> Persona | None:
    """The persona of the assistant the call was last handed to, as it is now;
    None if the call was never handed off, or that assistant is gone or switched
    off (the stream then starts with the call's own, from its snapshot).

    Engine, model and voice stay the call's, as in a handoff: the caller hears
    the same voice on every stream of the call.
    """
    if not call.handoffs:
        return None
    span = call.assistant_spans.order_by("-offset_ms", "-pk").first()
    assistant = span.assistant if span is not None else None
    if assistant is None or not assistant.is_active:
        return None
    own = Persona.from_snapshot(call.assistant_snapshot or {})
    return dataclasses.replace(
        assistant.persona(), engine=own.engine, model=own.model, voice=own.voice
    )


def _last_seq(call: Call) -> int:
    seqs = call.transcript_entries.order_by("-seq").values_list("seq", flat=True)
    return seqs.first() or 0


def _offset_ms(call: Call) -> int:
    if call.started_at is None:
        return 0
    return max(0, round((timezone.now() - call.started_at).total_seconds() * 1000))


def _destination_name(call: Call) -> str:
    """The assistant's name for the number the call was transferred to, if any."""
    if call.assistant is None or not call.transfer_to:
        return ""
    name = (
        call.assistant.transfer_destinations.filter(number=call.transfer_to)
        .values_list("name", flat=True)
        .first()
    )
    return name or ""


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


def recording_save(
    *,
    call_sid: str,
    path: str,
    format: str,
    channels: int,
    sample_rate: int,
    duration_ms: int,
    size_bytes: int,
    sha256: str,
) -> Any:
    """Store a finished recording file through ``STORAGES["recordings"]`` and
    its ``Recording`` row; a later stream of the same call replaces it. None if
    the call is unknown."""
    from django.core.files import File

    from calls.models import Recording

    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    recording = Recording.objects.filter(call=call).first() or Recording(call=call)
    old_name = recording.file.name if recording.pk else ""
    recording.format = format
    recording.channels = channels
    recording.sample_rate = sample_rate
    recording.duration_ms = duration_ms
    recording.size_bytes = size_bytes
    recording.sha256 = sha256
    with open(path, "rb") as f:
        recording.file.save(f"{call_sid}.wav", File(f), save=False)
    recording.save()
    if old_name and old_name != recording.file.name:
        recording.file.storage.delete(old_name)
    logger.info(
        "call %s: recording saved (%d ms, %d bytes)", call_sid, duration_ms, size_bytes
    )
    return recording


def recording_read(*, call_sid: str) -> bytes:
    """The call's recording file so far (b"" if none): a later stream of the
    call continues it."""
    from calls.models import Recording

    recording = Recording.objects.filter(call__call_sid=call_sid).first()
    if recording is None or not recording.file:
        return b""
    with recording.file.open("rb") as f:
        data: bytes = f.read()
    return data
