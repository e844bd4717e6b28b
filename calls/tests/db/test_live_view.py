"""LiveCallsConsumer: staff-only socket, snapshot, call and transcript events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import Client

from calls.models import TranscriptEntry
from calls.review.live import LiveCallsConsumer
from calls.runtime.bus import live_events
from calls.runtime.bus.live_events import call_payload, entry_payload
from calls.tests.support.live_view import PATH, open_socket
from calls.tests.support.review_helpers import CONVERSATION, make_call

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]


async def test_it_sends_staff_a_snapshot_then_call_events(
    staff_user: Any, live_call: Any, assistant: Any
) -> None:
    await database_sync_to_async(make_call)(assistant=assistant)  # finished: absent
    socket, connected = await open_socket(staff_user)
    assert connected
    snapshot = await socket.receive_json_from()
    assert snapshot["type"] == "snapshot"
    assert [c["call_sid"] for c in snapshot["calls"]] == [live_call.call_sid]
    assert snapshot["calls"][0]["from"] == "+1555•••4321"
    assert snapshot["calls"][0]["to"] == "+15550000001"

    payload = call_payload(live_call)
    await live_events.publish_call({**payload, "status": "completed"}, state="ended")
    event = await socket.receive_json_from()
    assert event["type"] == "call"
    assert event["state"] == "ended"
    assert event["call"]["call_sid"] == live_call.call_sid
    assert event["call"]["from"] == "+1555•••4321"
    await socket.disconnect()


async def test_it_streams_a_subscribed_calls_transcript(
    staff_user: Any, live_call: Any, assistant: Any
) -> None:
    other = await database_sync_to_async(make_call)(assistant=assistant, live=True)
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot

    await socket.send_json_to({"subscribe": live_call.call_sid})
    current = await socket.receive_json_from()
    assert current["type"] == "call_transcript"
    assert current["call"]["call_sid"] == live_call.call_sid
    assert [e["text"] for e in current["entries"]] == [
        CONVERSATION[0]["text"],
        CONVERSATION[1]["text"],
    ]

    # Another call's turn is not sent; the subscribed call's is.
    await live_events.publish_transcript(other.call_sid, {"seq": 0, "text": "no"})
    entry = await database_sync_to_async(TranscriptEntry.objects.create)(
        call=live_call, seq=2, role="assistant", text="Ten it is.", reply_latency_ms=500
    )
    await live_events.publish_transcript(live_call.call_sid, entry_payload(entry))
    event = await socket.receive_json_from()
    assert event == {
        "type": "transcript",
        "call_sid": live_call.call_sid,
        "entry": entry_payload(entry),
    }

    await socket.send_json_to({"unsubscribe": live_call.call_sid})
    await live_events.publish_transcript(live_call.call_sid, entry_payload(entry))
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_it_ignores_control_commands_sent_to_a_watched_calls_group(
    staff_user: Any, live_call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calls.runtime.bus import control

    monkeypatch.setattr(control, "REPLY_TIMEOUT_SECONDS", 0.1)
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"subscribe": live_call.call_sid})
    await socket.receive_json_from()  # call_transcript
    # Control has a group of its own (call-control.<sid>): a viewer of the call
    # neither receives nor answers it, and keeps its socket.
    with pytest.raises(control.ControlError):
        await control.hang_up(live_call.call_sid, requested_by="alice")
    assert await socket.receive_nothing(timeout=0.1)
    await live_events.publish_transcript(live_call.call_sid, {"seq": 9, "text": "on"})
    assert (await socket.receive_json_from())["entry"]["text"] == "on"
    await socket.disconnect()


async def test_it_reports_unknown_calls(staff_user: Any) -> None:
    socket, _ = await open_socket(staff_user)
    assert (await socket.receive_json_from())["calls"] == []
    await socket.send_json_to({"subscribe": "CAnope"})
    assert await socket.receive_json_from() == {
        "type": "error",
        "error": "unknown call",
    }
    await socket.send_json_to(["not", "an", "object"])
    assert await socket.receive_nothing(timeout=0.1)
    await socket.send_to(text_data="{not json")
    assert await socket.receive_nothing(timeout=0.1)
    await socket.send_json_to({"subscribe": "CAnope"})  # the socket is still open
    assert (await socket.receive_json_from())["error"] == "unknown call"
    await socket.disconnect()


async def test_it_shows_full_numbers_to_permitted_staff(
    staff_user: Any, live_call: Any
) -> None:
    def grant() -> Any:
        permission = Permission.objects.get(codename="view_caller_number")
        staff_user.user_permissions.add(permission)
        return type(staff_user).objects.get(pk=staff_user.pk)

    user = await database_sync_to_async(grant)()
    socket, _ = await open_socket(user)
    snapshot = await socket.receive_json_from()
    assert snapshot["calls"][0]["from"] == "+15557654321"
    await socket.disconnect()


async def test_it_refuses_anonymous_and_non_staff_viewers(
    django_user_model: Any,
) -> None:
    plain = await database_sync_to_async(django_user_model.objects.create_user)("plain")
    for user in (AnonymousUser(), plain, None):
        socket, connected = await open_socket(user)
        assert not connected
        await socket.disconnect()


async def test_it_knows_the_viewer_from_the_session_cookie(
    staff_user: Any, django_user_model: Any
) -> None:
    def session_cookie(user: Any) -> bytes:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    plain = await database_sync_to_async(django_user_model.objects.create_user)("plain")
    app = AuthMiddlewareStack(LiveCallsConsumer.as_asgi())
    for user, accepted in ((staff_user, True), (plain, False)):
        cookie = await database_sync_to_async(session_cookie)(user)
        socket = WebsocketCommunicator(app, PATH, headers=[(b"cookie", cookie)])
        connected, _ = await socket.connect()
        assert connected is accepted
        await socket.disconnect()
    socket = WebsocketCommunicator(app, PATH)
    assert (await socket.connect())[0] is False


@pytest.mark.redis
async def test_it_relays_events_published_by_another_process(
    redis_url: str, settings: Any, staff_user: Any, live_call: Any, monkeypatch: Any
) -> None:
    """Two RedisChannelLayer instances, as two daphne processes would have."""
    config = {
        "hosts": [redis_url],
        "prefix": f"test-live-{uuid.uuid4().hex[:8]}",
        "expiry": 10,
        "group_expiry": 60,
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": config,
        }
    }
    viewer_layer = get_channel_layer()
    publisher_layer = RedisChannelLayer(**config)
    assert isinstance(viewer_layer, RedisChannelLayer)
    assert viewer_layer is not publisher_layer
    monkeypatch.setattr(live_events, "get_channel_layer", lambda: publisher_layer)
    try:
        socket, connected = await open_socket(staff_user)
        assert connected
        await socket.receive_json_from()  # snapshot
        await socket.send_json_to({"subscribe": live_call.call_sid})
        await socket.receive_json_from(timeout=3)  # call_transcript

        await live_events.publish_call(call_payload(live_call), state="updated")
        await live_events.publish_transcript(
            live_call.call_sid, {"seq": 5, "role": "caller", "text": "over Redis"}
        )
        received = [await socket.receive_json_from(timeout=3) for _ in range(3)]
        kinds = sorted(message["type"] for message in received)
        # The call event reaches both of the viewer's groups (all calls, this call).
        assert kinds == ["call", "call", "transcript"]
        [transcript] = [m for m in received if m["type"] == "transcript"]
        assert transcript["entry"]["text"] == "over Redis"
        await socket.disconnect()
    finally:
        await publisher_layer.close_pools()
        await viewer_layer.close_pools()
