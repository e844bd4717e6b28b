"""The live socket's listen-in: permission, the runner told, audio relayed; and
transcript deltas reaching a subscribed viewer."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import Permission

from calls.runtime import listen
from calls.runtime.bus import control, live_events
from calls.runtime.bus.listen import publish_to_group
from calls.tests.support.live_view import open_socket
from calls.tests.support.review_helpers import make_call

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]


def grant_listen(user: Any) -> None:
    user.user_permissions.add(Permission.objects.get(codename="listen_live_call"))


async def test_it_needs_the_permission_to_listen(
    staff_user: Any, live_call: Any
) -> None:
    # conftest's staff user may follow calls live, but not listen in.
    socket, connected = await open_socket(staff_user)
    assert connected
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"listen": live_call.call_sid})
    refused = await socket.receive_json_from()
    assert refused["type"] == "error"
    assert "calls.listen_live_call" in refused["error"]
    await socket.disconnect()


async def test_it_tells_the_runner_and_relays_the_audio(
    staff_user: Any, live_call: Any
) -> None:
    await database_sync_to_async(grant_listen)(staff_user)
    staff_user = await database_sync_to_async(type(staff_user).objects.get)(
        pk=staff_user.pk
    )
    layer = get_channel_layer()
    assert layer is not None
    runner_side = await layer.new_channel()  # stands in for the media consumer
    await layer.group_add(control.group_name(live_call.call_sid), runner_side)

    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"listen": live_call.call_sid})
    assert await socket.receive_json_from() == {
        "type": "listening",
        "call_sid": live_call.call_sid,
        "on": True,
    }
    told = await layer.receive(runner_side)
    assert told["type"] == "call.listen" and told["on"] is True
    listener = told["listener"]

    relay = listen.AudioRelay(live_call.call_sid)
    relay.caller_audio("//8=")
    relay.assistant_audio("f38=")
    await publish_to_group(relay.group, relay.take() or {})
    audio = await socket.receive_json_from()
    assert audio["type"] == "audio"
    assert (audio["caller"], audio["assistant"]) == (["//8="], ["f38="])

    await socket.send_json_to({"unlisten": live_call.call_sid})
    assert (await socket.receive_json_from())["on"] is False
    told = await layer.receive(runner_side)
    assert (told["listener"], told["on"]) == (listener, False)
    await socket.disconnect()


async def test_it_refuses_to_listen_to_a_call_that_is_over(
    staff_user: Any, assistant: Any
) -> None:
    over = await database_sync_to_async(make_call)(assistant=assistant)
    await database_sync_to_async(grant_listen)(staff_user)
    staff_user = await database_sync_to_async(type(staff_user).objects.get)(
        pk=staff_user.pk
    )
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()
    await socket.send_json_to({"listen": over.call_sid})
    assert (await socket.receive_json_from())["error"] == "that call is not live"
    await socket.disconnect()


async def test_it_sends_a_subscriber_assistant_words_as_generated(
    staff_user: Any, live_call: Any
) -> None:
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()
    await socket.send_json_to({"subscribe": live_call.call_sid})
    await socket.receive_json_from()  # call_transcript
    await live_events.publish_delta(live_call.call_sid, 5, "Sure, ")
    assert await socket.receive_json_from() == {
        "type": "transcript_delta",
        "call_sid": live_call.call_sid,
        "seq": 5,
        "text": "Sure, ",
    }
    await socket.disconnect()
