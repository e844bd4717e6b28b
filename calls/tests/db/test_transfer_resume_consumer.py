"""A second stream of a call through the media consumer: which tokens open it,
and what its new engine session is sent first."""

from __future__ import annotations

import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path

from calls.callstate.continuation import TRANSFER_UNANSWERED
from calls.models import Call, EndReason
from calls.runtime.media_consumer import MediaStreamConsumer
from calls.services.lifecycle import call_claim_stream, call_finish, call_mark_started
from calls.services.routing import call_route
from calls.services.transcript import transcript_entry_add
from calls.services.transfer import call_record_control, call_record_dial
from calls.telephony import stream_token
from calls.tests.support.frames import CALL_SID, tw_connected, tw_start, tw_stop
from calls.tests.support.frames.fakes import FakeConnector
from calls.tests.support.twilio_signing import twilio_signature

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]


def mint(stream: int) -> str:
    return stream_token.mint(
        call_sid=CALL_SID,
        secret=settings.SECRET_KEY,
        ttl_seconds=60,
        now=time.time(),
        stream=stream,
        # What the dial action's token says (``webhooks.dial_action``).
        reason=TRANSFER_UNANSWERED if stream > 1 else "",
    )


def communicator(connector: FakeConnector, token: str) -> WebsocketCommunicator:
    # ``Any``: django-stubs types ``path()`` for HTTP views only.
    app: Any = MediaStreamConsumer.as_asgi(connect_engine=connector)
    route = path("twilio/media-stream/<str:token>/", app)
    url_path = f"/twilio/media-stream/{token}/"
    signature = twilio_signature("wss://voice.example.com" + url_path, {})
    headers = [
        (b"host", b"voice.example.com"),
        (b"x-twilio-signature", signature.encode()),
    ]
    return WebsocketCommunicator(URLRouter([route]), url_path, headers=headers)


@database_sync_to_async
def transferred_and_not_answered(phone_number: Any) -> int | None:
    call_route(call_sid=CALL_SID, from_number="+15557654321", to_number="+15550000001")
    call_claim_stream(call_sid=CALL_SID)
    call_mark_started(call_sid=CALL_SID, stream_sid="MZ" + "1" * 32)
    transcript_entry_add(
        call_sid=CALL_SID, seq=1, role="assistant", text="Hello, ACME Dental."
    )
    transcript_entry_add(
        call_sid=CALL_SID, seq=2, role="caller", text="A person, please."
    )
    call_record_control(
        call_sid=CALL_SID,
        end_reason=EndReason.TRANSFERRED,
        ended_by="ops",
        transfer_to="+15550002222",
    )
    call_finish(call_sid=CALL_SID, end_reason=EndReason.TRANSFERRED)
    return call_record_dial(call_sid=CALL_SID, dial_status="no-answer")


async def test_it_opens_the_second_stream_once_seeded_with_the_conversation(
    phone_number: Any,
) -> None:
    assert await transferred_and_not_answered(phone_number) == 2

    old = communicator(FakeConnector(), mint(1))
    assert not (await old.connect())[0]  # the first stream's token: used

    connector = FakeConnector()
    comm = communicator(connector, mint(2))
    assert (await comm.connect())[0]
    await comm.send_to(tw_connected())
    await comm.send_to(tw_start())
    await connector.leg.wait_for("response.create")

    again = communicator(FakeConnector(), mint(2))
    assert not (await again.connect())[0]  # one claim per stream
    sent = connector.leg.sent
    types = [event["type"] for event in sent]
    assert types[:1] == ["session.update"]
    items = [e["item"] for e in sent if e["type"] == "conversation.item.create"]
    assert [(i["role"], i["content"][0]["text"]) for i in items] == [
        ("assistant", "Hello, ACME Dental."),
        ("user", "A person, please."),
    ]
    assert types.index("conversation.item.create") < types.index("response.create")
    request = next(e for e in sent if e["type"] == "response.create")
    assert "nobody at that line answered" in request["response"]["instructions"]

    await comm.send_to(tw_stop())
    await comm.disconnect(timeout=5)
    call = await database_sync_to_async(Call.objects.get)(call_sid=CALL_SID)
    assert (call.streams, call.transfer_status) == (2, "no-answer")
