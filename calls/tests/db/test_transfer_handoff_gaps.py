"""The edges of a call that goes on over a later stream: an old stream's end that
lands late, a call handed off before it was reopened, live viewers, and why the
call goes on (named, not guessed)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.urls import path

from calls.callstate import actions as a
from calls.callstate.continuation import TRANSFER_UNANSWERED, resume_note
from calls.models import Call, CallStatus, EndReason
from calls.review.live import LiveCallsConsumer
from calls.runtime.bus import live_events
from calls.runtime.log_writer import CallLogWriter
from calls.runtime.media_consumer import MediaStreamConsumer
from calls.services.lifecycle import (
    call_claim_stream,
    call_finish,
    call_mark_started,
    call_record_end_reason,
)
from calls.services.routing import call_assistant_add, call_route
from calls.services.transcript import transcript_entry_add
from calls.services.transfer import (
    call_continuation,
    call_record_control,
    call_record_dial,
)
from calls.telephony import stream_token
from calls.tests.support.frames import CALL_SID, tw_connected, tw_start, tw_stop
from calls.tests.support.frames.fakes import FakeConnector
from calls.tests.support.twilio_signing import (
    call_params,
    signed_post,
    twilio_signature,
)

TRANSFER_TO = "+15550002222"
DIAL_ACTION = "/twilio/dial-action/"


def transfer_and_reopen(*, handoff_to: Any = None) -> int | None:
    """A call's first stream ran, (optionally) handed off, ended in a transfer
    nobody answered; the number of the stream that may open next."""
    call_route(call_sid=CALL_SID, from_number="+15557654321", to_number="+15550000001")
    call_claim_stream(call_sid=CALL_SID)
    call_mark_started(call_sid=CALL_SID, stream_sid="MZ" + "1" * 32)
    call = Call.objects.get(call_sid=CALL_SID)
    call_assistant_add(
        call_sid=CALL_SID, assistant_id=call.assistant_id, name="Front desk"
    )
    transcript_entry_add(
        call_sid=CALL_SID, seq=1, role="assistant", text="Hello, ACME Dental."
    )
    if handoff_to is not None:
        call_assistant_add(
            call_sid=CALL_SID,
            assistant_id=handoff_to.pk,
            name=handoff_to.name,
            offset_ms=2000,
            handoff=True,
        )
    call_record_control(
        call_sid=CALL_SID,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to=TRANSFER_TO,
        stream=1,
    )
    call_finish(call_sid=CALL_SID, end_reason=EndReason.TRANSFERRED, stream=1)
    return call_record_dial(call_sid=CALL_SID, dial_status="no-answer")


def open_call() -> tuple[str, Any, str]:
    call = Call.objects.get(call_sid=CALL_SID)
    return call.status, call.ended_at, call.end_reason


# -- 1. an old stream's end after the call was reopened -------------------------


@pytest.mark.django_db
def test_it_ignores_the_old_streams_finish_before_the_next_stream_is_claimed(
    phone_number: Any, caplog: Any
) -> None:
    assert transfer_and_reopen() == 2
    caplog.set_level(logging.INFO, logger="calls.services.lifecycle")

    late = call_finish(call_sid=CALL_SID, end_reason=EndReason.CALLER_HUNG_UP, stream=1)

    assert late is None
    assert open_call() == (CallStatus.IN_PROGRESS, None, "")
    assert "ignored the end of stream 1" in caplog.text


@pytest.mark.django_db
def test_it_ignores_the_old_streams_end_once_the_next_stream_runs(
    phone_number: Any,
) -> None:
    transfer_and_reopen()
    call_claim_stream(call_sid=CALL_SID, stream=2)

    call_record_end_reason(
        call_sid=CALL_SID, end_reason=EndReason.REALTIME_ERROR, stream=1
    )
    assert (
        call_finish(call_sid=CALL_SID, end_reason=EndReason.REALTIME_ERROR, stream=1)
        is None
    )
    assert open_call() == (CallStatus.IN_PROGRESS, None, "")

    ended = call_finish(
        call_sid=CALL_SID, end_reason=EndReason.CALLER_HUNG_UP, stream=2
    )
    assert ended is not None
    assert (ended.end_reason, ended.status) == (
        EndReason.CALLER_HUNG_UP,
        CallStatus.COMPLETED,
    )
    assert ended.ended_at is not None


@pytest.mark.django_db
def test_a_finish_without_a_stream_number_still_ends_the_call(
    phone_number: Any,
) -> None:
    # ``calls close-stale`` finalises whatever stream the call is on.
    transfer_and_reopen()

    call = call_finish(
        call_sid=CALL_SID, end_reason=EndReason.NO_STREAM, final_status="failed"
    )

    assert call is not None and call.end_reason == EndReason.NO_STREAM


@pytest.mark.django_db(transaction=True)
async def test_the_first_streams_recorder_cannot_end_the_reopened_call(
    phone_number: Any, monkeypatch: Any
) -> None:
    published: list[str] = []

    async def publish(call: dict[str, Any], *, state: str) -> None:
        published.append(state)

    monkeypatch.setattr(live_events, "publish_call", publish)
    await database_sync_to_async(transfer_and_reopen)()
    recorder = CallLogWriter(CALL_SID, stream=1)

    await recorder.finish(a.EndCall(EndReason.CALLER_HUNG_UP), bad_frames=3)

    call = await database_sync_to_async(Call.objects.get)(call_sid=CALL_SID)
    assert (call.status, call.ended_at, call.bad_frames) == (
        CallStatus.IN_PROGRESS,
        None,
        0,
    )
    assert published == []  # no "ended" for a call still in progress
    await database_sync_to_async(connections.close_all)()


# -- 2. a call handed off, then reopened ----------------------------------------


@pytest.mark.django_db
def test_it_resumes_with_the_assistant_the_call_was_handed_to(
    phone_number: Any, other_assistant: Any
) -> None:
    transfer_and_reopen(handoff_to=other_assistant)
    other_assistant.instructions = "You take messages. Changed since the handoff."
    other_assistant.save()

    resumed = call_continuation(call_sid=CALL_SID, stream=2, reason=TRANSFER_UNANSWERED)

    assert resumed.persona is not None
    assert resumed.persona.assistant_id == other_assistant.pk
    assert resumed.persona.instructions == other_assistant.instructions
    # The voice the caller has heard all along, not the other assistant's.
    assert (resumed.persona.voice, other_assistant.voice) == ("marin", "cedar")


@pytest.mark.django_db
def test_it_resumes_with_the_calls_own_assistant_if_the_other_was_deleted(
    phone_number: Any, other_assistant: Any
) -> None:
    transfer_and_reopen(handoff_to=other_assistant)
    other_assistant.delete()

    resumed = call_continuation(call_sid=CALL_SID, stream=2)

    assert resumed.persona is None  # the consumer uses the call's snapshot


@pytest.mark.django_db
def test_a_call_never_handed_off_resumes_from_its_snapshot(
    phone_number: Any,
) -> None:
    transfer_and_reopen()

    assert call_continuation(call_sid=CALL_SID, stream=2).persona is None


def communicator(connector: FakeConnector, token: str) -> WebsocketCommunicator:
    app: Any = MediaStreamConsumer.as_asgi(connect_engine=connector)
    route = path("twilio/media-stream/<str:token>/", app)
    url_path = f"/twilio/media-stream/{token}/"
    signature = twilio_signature("wss://voice.example.com" + url_path, {})
    headers = [
        (b"host", b"voice.example.com"),
        (b"x-twilio-signature", signature.encode()),
    ]
    return WebsocketCommunicator(URLRouter([route]), url_path, headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_the_second_stream_runs_as_the_handed_to_assistant(
    phone_number: Any, other_assistant: Any, close_thread_connections: None
) -> None:
    stream = await database_sync_to_async(transfer_and_reopen)(
        handoff_to=other_assistant
    )
    token = stream_token.mint(
        call_sid=CALL_SID,
        secret=settings.SECRET_KEY,
        ttl_seconds=60,
        now=time.time(),
        stream=stream or 0,
        reason=TRANSFER_UNANSWERED,
    )
    connector = FakeConnector()
    comm = communicator(connector, token)
    assert (await comm.connect())[0]
    await comm.send_to(tw_connected())
    await comm.send_to(tw_start())
    await connector.leg.wait_for("response.create")

    update = json.dumps(
        next(e for e in connector.leg.sent if e["type"] == "session.update")
    )
    assert "You take messages outside opening hours." in update
    assert "ACME Dental. Be brief." not in update
    assert '"marin"' in update and '"cedar"' not in update
    await comm.send_to(tw_stop())
    await comm.disconnect(timeout=5)
    call = await database_sync_to_async(Call.objects.get)(call_sid=CALL_SID)
    # The span goes on: no second "joined" row for the same assistant.
    spans = await database_sync_to_async(call.assistant_spans.count)()
    assert (call.streams, call.handoffs, spans) == (2, 1, 2)


# -- 3. live viewers --------------------------------------------------------------


@pytest.mark.django_db
def test_the_dial_action_tells_live_viewers_the_call_is_in_progress_again(
    client: Any, phone_number: Any, monkeypatch: Any
) -> None:
    published: list[tuple[str, dict[str, Any]]] = []

    async def publish(call: dict[str, Any], *, state: str) -> None:
        published.append((state, call))

    sid = call_params()["CallSid"]
    signed_post(client, "/twilio/voice/", call_params())
    call_claim_stream(call_sid=sid)
    call_mark_started(call_sid=sid, stream_sid="MZ" + "1" * 32)
    call_record_control(
        call_sid=sid,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to=TRANSFER_TO,
    )
    call_finish(call_sid=sid, end_reason=EndReason.TRANSFERRED)
    monkeypatch.setattr(live_events, "publish_call", publish)

    signed_post(
        client,
        DIAL_ACTION,
        call_params(CallStatus="in-progress", DialCallStatus="busy"),
    )

    [(state, payload)] = published
    assert state == "started"
    assert (payload["status"], payload["ended_at"]) == (CallStatus.IN_PROGRESS, None)
    assert (payload["transfer_to"], payload["transfer_status"]) == (
        TRANSFER_TO,
        "busy",
    )


@pytest.mark.django_db
def test_the_live_call_payload_says_what_the_assistant_did(
    phone_number: Any, other_assistant: Any
) -> None:
    transfer_and_reopen(handoff_to=other_assistant)

    payload = live_events.call_payload(Call.objects.get(call_sid=CALL_SID))

    assert (payload["transfer_to"], payload["transfer_status"]) == (
        TRANSFER_TO,
        "no-answer",
    )
    assert payload["handoffs"] == 1


def test_the_live_view_masks_the_transfer_number_like_callers() -> None:
    viewer = LiveCallsConsumer()
    call = {"direction": "inbound", "from": "+15557654321", "to": "+15550000001"}

    viewer.show_numbers = False
    masked = viewer._masked({**call, "transfer_to": TRANSFER_TO})
    viewer.show_numbers = True
    shown = viewer._masked({**call, "transfer_to": TRANSFER_TO})

    assert masked["transfer_to"] == "+1555•••2222"
    assert masked["from"] == "+1555•••4321"
    assert shown["transfer_to"] == TRANSFER_TO
    assert viewer._masked(call)["transfer_to"] == ""


# -- 4. why the call goes on: named, not inferred ----------------------------------


@pytest.mark.django_db
def test_a_resume_for_another_reason_does_not_repeat_the_no_answer_note(
    phone_number: Any,
) -> None:
    transfer_and_reopen()  # transfer_status "no-answer" stays on the call

    assert call_continuation(call_sid=CALL_SID, stream=2).note == ""
    unknown = call_continuation(call_sid=CALL_SID, stream=2, reason="deploy")
    assert (unknown.note, unknown.reason) == ("", "")
    resumed = call_continuation(call_sid=CALL_SID, stream=2, reason=TRANSFER_UNANSWERED)
    assert resumed.reason == TRANSFER_UNANSWERED
    assert resumed.note == resume_note(TRANSFER_UNANSWERED, "")
    assert "nobody at that line answered" in resumed.instructions


@pytest.mark.django_db
def test_the_dial_actions_token_names_the_reason(
    client: Any, phone_number: Any
) -> None:
    sid = call_params()["CallSid"]
    signed_post(client, "/twilio/voice/", call_params())
    call_claim_stream(call_sid=sid)
    call_mark_started(call_sid=sid, stream_sid="MZ" + "1" * 32)
    call_record_control(
        call_sid=sid,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to=TRANSFER_TO,
    )
    call_finish(call_sid=sid, end_reason=EndReason.TRANSFERRED)

    response = signed_post(
        client,
        DIAL_ACTION,
        call_params(CallStatus="in-progress", DialCallStatus="no-answer"),
    )

    url = response.content.decode().split('url="')[1].split('"')[0]
    token = urlsplit(url).path.split("/")[-2]
    claims = stream_token.verify(token, secret=settings.SECRET_KEY, now=time.time())
    assert (claims.stream, claims.reason) == (2, TRANSFER_UNANSWERED)


def test_a_token_carries_a_reason_and_refuses_a_bad_one() -> None:
    token = stream_token.mint(
        call_sid=CALL_SID,
        secret="s",
        ttl_seconds=60,
        now=1.0,
        stream=2,
        reason="server_restart",
    )
    assert stream_token.verify(token, secret="s", now=2.0).reason == "server_restart"
    first = stream_token.mint(call_sid=CALL_SID, secret="s", ttl_seconds=60, now=1.0)
    assert stream_token.verify(first, secret="s", now=2.0).reason == ""
    with pytest.raises(ValueError):
        stream_token.mint(
            call_sid=CALL_SID,
            secret="s",
            ttl_seconds=60,
            now=1.0,
            stream=2,
            reason="Not A Word!",
        )
