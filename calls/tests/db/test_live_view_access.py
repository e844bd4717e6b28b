"""What the live socket sends, by the viewer's permissions: transcripts only of
calls in progress and only to holders of ``calls.view_call`` (the call page's
rule), and listen-in only while ``calls.listen_live_call`` is held."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import Permission

from calls.review import live_sessions
from calls.runtime import listen
from calls.runtime.bus import control, live_events
from calls.runtime.bus import listen as listen_bus
from calls.runtime.bus.listen import publish_to_group
from calls.tests.support.live_view import open_socket
from calls.tests.support.review_helpers import CONVERSATION, make_call

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]

TOOL_ROW = {
    "role": "tool",
    "text": '{"balance": "4,210.00"}',
    "tool_name": "lookup_account",
    "tool_arguments": "{}",
    "tool_status": "ok",
}


def with_permissions(user: Any, add: tuple[str, ...], remove: tuple[str, ...]) -> Any:
    """``user`` freshly read, after adding and removing calls permissions."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=add))
    user.user_permissions.remove(*Permission.objects.filter(codename__in=remove))
    return type(user).objects.get(pk=user.pk)


async def changed(
    user: Any, *, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> Any:
    return await database_sync_to_async(with_permissions)(user, add, remove)


# -- 23: transcripts ---------------------------------------------------------------


async def test_it_sends_no_transcript_of_a_call_that_ended(
    staff_user: Any, assistant: Any
) -> None:
    over = await database_sync_to_async(make_call)(
        assistant=assistant, entries=[*CONVERSATION, TOOL_ROW]
    )
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot

    await socket.send_json_to({"subscribe": over.call_sid})

    answers = []
    while not await socket.receive_nothing(timeout=0.2):
        answers.append(await socket.receive_json_from())
    assert {"type": "error", "error": "that call is not live"} in answers
    assert all("entries" not in a for a in answers)
    assert "4,210.00" not in repr(answers)
    # Not subscribed: the call's later turns are not sent either.
    await live_events.publish_transcript(over.call_sid, {"seq": 9, "text": "late"})
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_a_viewer_without_view_call_gets_no_transcript(
    staff_user: Any, live_call: Any
) -> None:
    viewer = await changed(staff_user, remove=("view_call",))
    socket, connected = await open_socket(viewer)
    assert connected
    snapshot = await socket.receive_json_from()
    assert snapshot["calls"][0]["from"] == "+1555•••4321"  # the list: still shown

    await socket.send_json_to({"subscribe": live_call.call_sid})

    refused = await socket.receive_json_from()
    assert refused["type"] == "error"
    assert "calls.view_call" in refused["error"]
    await live_events.publish_transcript(live_call.call_sid, {"seq": 9, "text": "x"})
    await live_events.publish_delta(live_call.call_sid, 9, "x")
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_losing_view_call_stops_the_transcript_within_the_recheck(
    staff_user: Any, live_call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_sessions, "RECHECK_SECONDS", 0.2)
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"subscribe": live_call.call_sid})
    assert (await socket.receive_json_from())["type"] == "call_transcript"

    await changed(staff_user, remove=("view_call",))

    dropped = await socket.receive_json_from(timeout=2)
    assert dropped["type"] == "error" and "calls.view_call" in dropped["error"]
    await live_events.publish_transcript(live_call.call_sid, {"seq": 9, "text": "x"})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


# -- 21: listen-in -----------------------------------------------------------------


async def test_revoking_listen_in_ends_it_within_the_recheck(
    staff_user: Any, live_call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_sessions, "RECHECK_SECONDS", 0.3)
    monkeypatch.setattr(listen_bus, "RENEW_SECONDS", 0.1)
    listener = await changed(staff_user, add=("listen_live_call",))
    layer = get_channel_layer()
    assert layer is not None
    runner_side = await layer.new_channel()  # stands in for the media consumer
    await layer.group_add(control.group_name(live_call.call_sid), runner_side)
    socket, _ = await open_socket(listener)
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"listen": live_call.call_sid})
    assert (await socket.receive_json_from())["on"] is True
    told = [await asyncio.wait_for(layer.receive(runner_side), 2) for _ in "ab"]
    assert [t["on"] for t in told] == [True, True]  # the listen, a renewal

    await changed(staff_user, remove=("listen_live_call",))

    async def until_off() -> None:
        while (await layer.receive(runner_side))["on"]:
            pass  # renewals, until the runner is told to stop

    await asyncio.wait_for(until_off(), timeout=2)
    answers = [await socket.receive_json_from(timeout=2) for _ in range(2)]
    assert {"type": "listening", "call_sid": live_call.call_sid, "on": False} in answers
    assert any(
        a["type"] == "error" and "calls.listen_live_call" in a["error"] for a in answers
    )
    # No renewal re-arms the relay, and its audio no longer reaches the viewer.
    relay = listen.AudioRelay(live_call.call_sid)
    relay.caller_audio("//8=")
    await publish_to_group(relay.group, relay.take() or {})
    assert await socket.receive_nothing(timeout=0.5)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(runner_side), timeout=0.3)
    await socket.disconnect()


# -- 30: transfer numbers on the live socket ---------------------------------------


async def test_the_live_socket_masks_transfer_numbers_in_events(
    staff_user: Any, live_call: Any
) -> None:
    socket, _ = await open_socket(staff_user)
    await socket.receive_json_from()  # snapshot
    await socket.send_json_to({"subscribe": live_call.call_sid})
    assert (await socket.receive_json_from())["type"] == "call_transcript"

    await live_events.publish_transcript(
        live_call.call_sid,
        {"seq": 9, "role": "system", "text": "Transferred to +19005550123 by alice"},
    )

    entry = (await socket.receive_json_from())["entry"]
    assert "+19005550123" not in entry["text"]
    assert entry["text"].startswith("Transferred to +1900")
    await socket.disconnect()
