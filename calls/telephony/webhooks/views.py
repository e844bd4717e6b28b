"""Twilio's webhooks: voice, call status, the stream-ended ``<Connect>`` action and
a transfer's ``<Dial>`` action.

Thin glue. Every view is wrapped in ``twilio_auth.twilio_webhook`` (signature check
first, nothing is written for a refused request); routing and status bookkeeping
live in ``calls.services``, the documents in ``telephony.twiml`` and the stream token in
``calls.telephony.stream_token``.

Reference: https://www.twilio.com/docs/usage/webhooks/voice-webhooks
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from assistants.models import Assistant
from calls.callstate.continuation import TRANSFER_UNANSWERED
from calls.conf import app_settings
from calls.models import FINAL_STATUSES, Call, EndReason
from calls.runtime.bus import live_events
from calls.services.lifecycle import call_update_status
from calls.services.routing import assistant_for_number, call_route
from calls.services.transfer import call_record_dial
from calls.telephony import stream_token, twiml
from calls.telephony.account.auth import (
    public_url,
    stream_url,
    twilio_params,
    twilio_webhook,
)

logger = logging.getLogger(__name__)

# Ends after which Twilio should apologise before hanging up. An empty reason means
# the stream closed before anything recorded why, which is never a normal goodbye.
APOLOGY_END_REASONS = frozenset(
    {
        EndReason.REALTIME_ERROR,
        EndReason.REALTIME_DISCONNECTED,
        EndReason.SESSION_EXPIRED,
        EndReason.AUTH_FAILED,
        EndReason.SERVER_SHUTDOWN,
        "",
    }
)

# The largest ``CallDuration`` a call's duration column holds (int32).
MAX_DURATION_SECONDS = 2**31 - 1

# The ``<Dial action>``'s query parameter naming the stream that ended in the dial.
DIAL_STREAM_PARAM = "stream"

# How long the stream-ended action waits for the consumer to record an end reason.
END_REASON_WAIT_SECONDS = 2.0
END_REASON_POLL_SECONDS = 0.05


@twilio_webhook
def voice(request: HttpRequest) -> HttpResponse:
    """A call came in: route it to an assistant and connect the media stream."""
    params = twilio_params(request)
    call_sid = params.get("CallSid", "")
    try:
        routing = call_route(
            call_sid=call_sid,
            from_number=params.get("From", ""),
            to_number=params.get("To", ""),
            direction=params.get("Direction", ""),
        )
    except DatabaseError as exc:
        # A 500 would have Twilio play its generic application error.
        _log_outage(call_sid, "route the call", exc)
        return _twiml(twiml.stream_ended(apology=_unrouted_apology(params)))
    if routing.assistant is None:
        logger.info(
            "refused %s: no active assistant answers %s", call_sid, params.get("To", "")
        )
        return _twiml(twiml.reject())
    return _twiml(_connect(request, call_sid, routing.assistant))


@twilio_webhook
def status(request: HttpRequest) -> HttpResponse:
    """Twilio's call status callback: record progress, tell live viewers."""
    params = twilio_params(request)
    call_sid = params.get("CallSid", "")
    call = call_update_status(
        call_sid=call_sid,
        status=params.get("CallStatus", ""),
        duration_seconds=_duration_or_none(params.get("CallDuration")),
        answered_by=params.get("AnsweredBy", "")[:32],
    )
    state = "ended" if call.status in FINAL_STATUSES else "updated"
    async_to_sync(live_events.publish_call)(live_events.call_payload(call), state=state)
    return HttpResponse(status=204)


@twilio_webhook
def stream_ended(request: HttpRequest) -> HttpResponse:
    """``<Connect action>``: our server closed the stream; say what happens next.

    A transferred call is dialled through to its destination; every other call
    ends, with the assistant's apology when it ended on a failure.
    """
    params = twilio_params(request)
    try:
        call = _ended_call(params.get("CallSid", ""))
    except DatabaseError as exc:
        _log_outage(params.get("CallSid", ""), "read how the stream ended", exc)
        return _twiml(twiml.stream_ended(apology=_apology(None)))
    if call is not None and call.end_reason == EndReason.TRANSFERRED:
        if call.transfer_to:
            document = twiml.transfer(
                to=call.transfer_to,
                caller_id=call.to_number,
                action_url=public_url(request, _dial_action_path(call.streams)),
            )
            return _twiml(document)
        logger.error("call %s was transferred to no number", call.call_sid)
    return _twiml(twiml.stream_ended(apology=_apology(call)))


@twilio_webhook
def dial_action(request: HttpRequest) -> HttpResponse:
    """A transfer's ``<Dial action>``: how the dial ended, and what next.

    Answered, the caller talked to the person dialled: hang up. Otherwise the
    caller is brought back to the assistant on a new stream of the same call.
    The URL names the stream that ended in the dial (signed with the rest), so
    an outcome counts once, for the dial the call waits on.
    """
    params = twilio_params(request)
    call_sid = params.get("CallSid", "")
    dial_status = params.get("DialCallStatus", "")
    dialled_from = request.GET.get(DIAL_STREAM_PARAM)
    if dialled_from is not None and not dialled_from.isdecimal():
        return HttpResponse(
            "Bad stream number.\n", status=400, content_type="text/plain"
        )
    _finished_stream(call_sid)
    stream = call_record_dial(
        call_sid=call_sid,
        dial_status=dial_status,
        # The caller hung up while it rang: Twilio ignores this answer.
        caller_on_line=params.get("CallStatus", "") not in FINAL_STATUSES,
        stream=int(dialled_from[:9]) if dialled_from is not None else None,
    )
    logger.info("call %s: transfer dial ended %s", call_sid, dial_status[:16])
    _publish_dial(call_sid, reopened=stream is not None)
    if stream is None:
        return _twiml(twiml.hangup())
    return _twiml(
        _connect(request, call_sid, None, stream=stream, reason=TRANSFER_UNANSWERED)
    )


def _dial_action_path(stream: int) -> str:
    """The ``<Dial action>`` of a transfer from the call's stream ``stream``."""
    return f"{reverse('calls:dial_action')}?{DIAL_STREAM_PARAM}={stream}"


def _publish_dial(call_sid: str, *, reopened: bool) -> None:
    """Tell live viewers how the dial went; a reopened call is in progress
    again (the same event as a call starting, so it rejoins the live table)."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return
    if reopened:
        state = "started"
    else:
        state = "ended" if call.status in FINAL_STATUSES else "updated"
    async_to_sync(live_events.publish_call)(live_events.call_payload(call), state=state)


def _connect(
    request: HttpRequest,
    call_sid: str,
    assistant: Assistant | None,
    *,
    stream: int = 1,
    reason: str = "",
) -> str:
    """TwiML bridging ``call_sid`` to its stream number ``stream``, after
    ``assistant``'s notice (none for a later stream: the caller was greeted).
    ``reason``: why a later stream continues the call (``continuation``)."""
    token = stream_token.mint(
        call_sid=call_sid,
        secret=settings.SECRET_KEY,
        ttl_seconds=app_settings().stream_token_ttl_seconds,
        now=time.time(),
        stream=stream,
        reason=reason,
    )
    return twiml.connect_stream(
        stream_url=stream_url(request, token),
        action_url=public_url(request, reverse("calls:stream_ended")),
        pre_connect_message=assistant.pre_connect_message if assistant else "",
    )


def _finished_stream(call_sid: str) -> None:
    """Wait (briefly) until the stream before the dial is finalised.

    Twilio dials for many seconds, but a dial that fails at once can post its
    action before the media consumer's ``call_finish`` lands, and the call is
    reopened only once that stream's end is recorded. (A write of that stream's
    that lands later still is ignored: it carries the stream's number.)
    """
    deadline = time.monotonic() + END_REASON_WAIT_SECONDS
    while time.monotonic() < deadline:
        ended = (
            Call.objects.filter(call_sid=call_sid)
            .values_list("ended_at", flat=True)
            .first()
        )
        if ended is not None:
            return
        time.sleep(END_REASON_POLL_SECONDS)


def _ended_call(call_sid: str) -> Call | None:
    """The call, once the media consumer has recorded why its stream ended.

    Twilio requests this action the moment the socket closes, which can be just
    before the consumer's write lands; a stream that was opened gets a short grace
    period, so a normal goodbye is not mistaken for a failure.
    """
    deadline = time.monotonic() + END_REASON_WAIT_SECONDS
    while True:
        call = (
            Call.objects.select_related("assistant").filter(call_sid=call_sid).first()
        )
        if (
            call is None
            or call.end_reason
            or call.stream_claimed_at is None
            or time.monotonic() >= deadline
        ):
            return call
        time.sleep(END_REASON_POLL_SECONDS)


def _apology(call: Call | None) -> str:
    if call is not None and call.end_reason not in APOLOGY_END_REASONS:
        return ""
    if call is not None and call.assistant is not None:
        return call.assistant.unavailable_message
    default = Assistant._meta.get_field("unavailable_message").default
    return str(default)


def _unrouted_apology(params: Mapping[str, Any]) -> str:
    """The unavailable message of the assistant answering the dialled number,
    or the default one when that cannot be read either."""
    try:
        assistant, _ = assistant_for_number(params.get("To", ""))
    except DatabaseError:
        assistant = None
    if assistant is not None:
        return assistant.unavailable_message
    return _apology(None)


def _log_outage(call_sid: str, doing: str, exc: DatabaseError) -> None:
    """One line naming the cause; an outage repeats it for every call."""
    logger.error(
        "call %s: could not %s: the database is unavailable (%s: %s); the "
        "caller hears the apology",
        call_sid,
        doing,
        type(exc).__name__,
        str(exc).strip()[:200],
    )


def _twiml(document: str) -> HttpResponse:
    return HttpResponse(document, content_type="text/xml; charset=utf-8")


def _duration_or_none(value: str | None) -> int | None:
    """Twilio's ``CallDuration`` in seconds; None when absent or impossible (a
    negative number, or one past the column's int32: the call's own measure is
    kept instead, and the status still applies)."""
    if not value:
        return None  # None and "" are both absent
    try:
        seconds = int(value[:20])
    except ValueError:
        logger.warning("ignoring non-numeric CallDuration %r", value[:20])
        return None
    if not 0 <= seconds <= MAX_DURATION_SECONDS:
        logger.warning("ignoring out-of-range CallDuration %r", value[:20])
        return None
    return seconds
