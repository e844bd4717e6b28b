"""Staff control and transfers: who ended or transferred the call, how the dial
ended, and where the next stream of a call reopened after an unanswered transfer
starts (the conversation so far, who answers, what they say first)."""

from __future__ import annotations

import dataclasses
import logging

from django.db import transaction
from django.utils import timezone

from calls.callstate.continuation import RESUME_REASONS, Continuation, resume_note
from calls.models import Call, CallStatus, EndReason, TranscriptEntry, TranscriptRole
from calls.services.lifecycle import current_stream
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

# ``DialCallStatus`` values after which the caller is with the person dialled
# (and the call ends when they hang up); any other brings them back.
DIAL_CONNECTED = frozenset({"answered", "completed"})


def call_record_control(
    *,
    call_sid: str,
    end_reason: str,
    ended_by: str,
    transfer_to: str = "",
    stream: int | None = None,
) -> None:
    """Staff (or the command line) ended or transferred the call: say who, where.

    Written before the stream closes, like ``lifecycle.call_record_end_reason``,
    because the ``<Connect action>`` answer (``<Hangup/>`` or ``<Dial>``) depends
    on it. ``stream``: the number of the stream ending (``current_stream``).
    """
    changes = {
        "end_reason": end_reason,
        "ended_by": ended_by[:150],
        "transfer_to": transfer_to[:32],
    }
    if end_reason == EndReason.TRANSFERRED:
        # A new dial: the call waits on its outcome (``call_record_dial``).
        changes["transfer_status"] = ""
    calls = current_stream(Call.objects.filter(call_sid=call_sid), stream)
    calls.filter(end_reason="").update(**changes)


def call_record_dial(
    *,
    call_sid: str,
    dial_status: str,
    caller_on_line: bool = True,
    stream: int | None = None,
) -> int | None:
    """A transfer's ``<Dial action>``: record how the dial ended; the number of
    the stream that brings the caller back to the assistant, or None.

    Not answered (busy, no-answer, failed, canceled), a transferred call whose
    stream has ended is reopened: the first stream's end no longer finalises it
    (status in progress, no end, reason or outcome; the next stream's end will
    say), a system row says what happened, and stream ``streams + 1`` may open.
    Not when the caller hung up during the dial (``caller_on_line`` False: Twilio
    still posts the action, then its status callback ends the call).

    Accepted once, and only while the call waits on that dial: its stream
    ``stream`` (the action's URL names it; None: the current one) ended in a
    transfer whose outcome is not yet known. Twilio's signatures carry no
    timestamp, so a signed action posted again later must change nothing.
    """
    dial_status = dial_status[:16] or "failed"
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            logger.error("dial action for unknown call %s", call_sid)
            return None
        if not _waits_on_dial(call, stream):
            logger.warning(
                "call %s: ignored a dial outcome (%s) for stream %s; the call is "
                "not waiting on that dial",
                call_sid,
                dial_status,
                stream if stream is not None else call.streams,
            )
            return None
        call.transfer_status = dial_status
        reopen = caller_on_line and dial_status not in DIAL_CONNECTED
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


def _waits_on_dial(call: Call, stream: int | None) -> bool:
    """Did the call's stream ``stream`` end in a transfer whose dial outcome has
    not been recorded? (``call_record_control`` clears it for each transfer.)"""
    return (
        call.end_reason == EndReason.TRANSFERRED
        and call.ended_at is not None
        and call.streams > 0
        and (stream is None or stream == call.streams)
        and not call.transfer_status
    )


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
        note=resume_note(reason, _destination_name(call), call.transfer_status),
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
