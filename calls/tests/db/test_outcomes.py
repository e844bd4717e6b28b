"""What a call came to: the pure rule for every end reason, and where it is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from calls.models import Call, CallOutcome, CallStatus, EndReason
from calls.services.lifecycle import (
    call_finish,
    call_record_end_reason,
    call_update_status,
    calls_close_stale,
)
from calls.services.routing import call_route
from calls.tests.support.review_helpers import make_call
from calls.vocabulary import outcomes

# Every end reason, ending a completed inbound call whose stream ran.
EXPECTED = {
    EndReason.CALLER_HUNG_UP: "answered",
    EndReason.MAX_DURATION: "answered",
    EndReason.HUNG_UP_BY_STAFF: "answered",
    EndReason.TRANSFERRED: "answered",
    EndReason.ASSISTANT_ENDED: "answered",
    EndReason.SILENCE_TIMEOUT: "answered",
    EndReason.STREAM_CLOSED: "answered",
    EndReason.STATUS_CALLBACK: "answered",
    EndReason.REALTIME_ERROR: "failed",
    EndReason.REALTIME_DISCONNECTED: "failed",
    EndReason.SESSION_EXPIRED: "failed",
    EndReason.AUTH_FAILED: "failed",
    EndReason.SERVER_SHUTDOWN: "failed",
    EndReason.PROCESS_LOST: "failed",
    EndReason.NO_STREAM: "failed",
    EndReason.REJECTED: "rejected",
}


def test_it_maps_every_end_reason() -> None:
    assert set(EXPECTED) == set(EndReason), "a new end reason needs an outcome"
    for reason, expected in EXPECTED.items():
        got = outcomes.call_outcome(end_reason=reason, status="completed")
        assert got == expected, reason


def test_it_uses_the_models_values() -> None:
    assert set(CallOutcome.values) == {
        outcomes.ANSWERED,
        outcomes.FAILED,
        outcomes.REJECTED,
        outcomes.UNANSWERED,
        outcomes.VOICEMAIL,
    }
    reasons = outcomes.NORMAL_END_REASONS | outcomes.FAILED_END_REASONS
    assert reasons <= set(EndReason.values)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # Twilio's status alone would have said "completed" for both.
        ({"end_reason": "stream_closed", "error": "internal error: boom"}, "failed"),
        ({"end_reason": "status_callback", "streamed": False}, "failed"),
        ({"end_reason": "", "status": "failed"}, "failed"),
        ({"end_reason": "", "status": "in-progress"}, ""),
        ({"end_reason": "", "status": "ringing"}, ""),
        ({"end_reason": "status_callback", "status": "no-answer"}, "unanswered"),
        ({"end_reason": "status_callback", "status": "busy"}, "unanswered"),
        ({"end_reason": "caller_hung_up", "status": "canceled"}, "unanswered"),
        (
            {"end_reason": "", "status": "rejected", "direction": "outbound-api"},
            "unanswered",
        ),
        ({"end_reason": "", "status": "rejected"}, "rejected"),
        (
            {
                "end_reason": "caller_hung_up",
                "direction": "outbound-api",
                "answered_by": "machine_end_beep",
            },
            "voicemail",
        ),
        ({"end_reason": "caller_hung_up", "answered_by": "machine_start"}, "answered"),
        ({"end_reason": "made_up_reason"}, "failed"),
    ],
)
def test_it_decides_from_the_status_and_the_other_facts(
    facts: dict[str, Any], expected: str
) -> None:
    facts = {"status": "completed", **facts}
    assert outcomes.call_outcome(**facts) == expected


@pytest.fixture
def live(assistant: Any) -> Call:
    return make_call(assistant=assistant, live=True, outcome="")


def test_it_stores_the_outcome_when_the_stream_ends(live: Call) -> None:
    call = call_finish(
        call_sid=live.call_sid,
        end_reason=EndReason.REALTIME_DISCONNECTED,
        error="the Realtime connection dropped",
    )
    assert call is not None
    assert (call.status, call.outcome) == (CallStatus.COMPLETED, CallOutcome.FAILED)
    assert Call.objects.get(pk=live.pk).outcome == CallOutcome.FAILED


def test_it_keeps_the_reason_recorded_first(live: Call) -> None:
    call_record_end_reason(
        call_sid=live.call_sid, end_reason=EndReason.REALTIME_ERROR, error="refused"
    )
    call_update_status(call_sid=live.call_sid, status="completed")
    assert Call.objects.get(pk=live.pk).outcome == CallOutcome.FAILED


def test_it_stores_the_outcome_from_twilios_callback(assistant: Any) -> None:
    ringing = make_call(
        assistant=assistant, live=True, status="ringing", started_at=None, outcome=""
    )
    ringing.status = "ringing"
    Call.objects.filter(pk=ringing.pk).update(status="ringing")
    call = call_update_status(call_sid=ringing.call_sid, status="no-answer")
    assert call.outcome == CallOutcome.UNANSWERED
    outbound = make_call(
        assistant=assistant, live=True, direction="outbound-api", outcome=""
    )
    call = call_update_status(
        call_sid=outbound.call_sid, status="completed", answered_by="machine_start"
    )
    assert call.outcome == CallOutcome.VOICEMAIL
    call_finish(call_sid=outbound.call_sid, end_reason="caller_hung_up")
    assert Call.objects.get(pk=outbound.pk).outcome == CallOutcome.VOICEMAIL


def test_it_stores_rejected_calls_as_rejected(db: Any) -> None:
    routing = call_route(
        call_sid="CA" + "9" * 32, from_number="+15557654321", to_number="+15559999999"
    )
    assert routing.assistant is None
    assert routing.call.outcome == CallOutcome.REJECTED


def test_it_closes_stale_calls_as_failed(live: Call) -> None:
    old = timezone.now() - dt.timedelta(hours=1)
    Call.objects.filter(pk=live.pk).update(stream_claimed_at=old, heartbeat_at=old)
    closed = calls_close_stale()
    assert [stale.call_sid for stale in closed] == [live.call_sid]
    call = Call.objects.get(pk=live.pk)
    assert (call.end_reason, call.outcome) == (EndReason.PROCESS_LOST, "failed")
