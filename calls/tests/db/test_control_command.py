"""``manage.py calls``: hangup and transfer through the control protocol, close-stale.

A fake runner joins the call's group on the in-memory channel layer inside the
test's event loop and answers as the real runner would. The command runs on a
worker thread (``sync_to_async``), so its ``async_to_sync`` sends on that same
loop. The refusal of the in-memory layer is switched off for those tests only:
in production it exists because a separate process cannot reach that layer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from calls.management.commands import calls as calls_command
from calls.models import Call, CallStatus, EndReason
from calls.runtime.bus import control
from calls.tests.support.review_helpers import make_call

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]


@pytest.fixture(autouse=True)
def any_transfer_number(settings: Any) -> None:
    """These tests are about the control protocol; which numbers staff may
    transfer to (``calls.services.transfer_policy``) is tested on its own."""
    settings.TRANSFER_ALLOWED_PREFIXES = ["+1555"]


@pytest.fixture
def reachable_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the command use the in-memory layer the fake runner listens on."""
    monkeypatch.setattr(calls_command, "layer_is_in_process", lambda: False)
    # "Not live" waits the whole reply timeout; keep the test fast.
    monkeypatch.setattr(control, "REPLY_TIMEOUT_SECONDS", 0.2)


async def run_command(*args: str) -> str:
    out = StringIO()
    await sync_to_async(call_command)("calls", *args, stdout=out)
    return out.getvalue()


async def end_call(call_sid: str, *, by: str) -> None:
    """What the real runner does after an accepted hang-up: the call ends. (On a
    thread of its own: the command holds the thread-sensitive one.)"""

    def end() -> None:
        try:
            Call.objects.filter(call_sid=call_sid).update(
                status=CallStatus.COMPLETED,
                end_reason=EndReason.HUNG_UP_BY_STAFF,
                ended_by=by,
                ended_at=timezone.now(),
            )
        finally:
            connections.close_all()

    await sync_to_async(end, thread_sensitive=False)()


async def start_runner(
    call_sid: str, answer: Callable[[dict[str, Any]], control.ControlReply]
) -> tuple[list[control.ControlCommand], Callable[[], Awaitable[None]]]:
    """A stand-in for the call runner: one command in, one reply out."""
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(control.group_name(call_sid), channel)
    received: list[control.ControlCommand] = []

    async def serve() -> None:
        message = await layer.receive(channel)
        assert message["type"] == control.CONTROL_MESSAGE_TYPE
        received.append(control.parse_command(message))
        reply = answer(message)
        await control.reply(message["reply_to"], reply)
        if reply.ok and message["command"] == control.HANGUP:
            await end_call(call_sid, by=message["requested_by"])

    task = asyncio.create_task(serve())

    async def stop() -> None:
        await asyncio.wait_for(task, timeout=2)

    return received, stop


async def test_it_hangs_up_through_the_runner_and_prints_its_reply(
    live_call: Call, reachable_layer: None
) -> None:
    received, stop = await start_runner(
        live_call.call_sid, lambda m: control.ControlReply(True, "Hanging up.")
    )
    out = await run_command("hangup", live_call.call_sid, "--by", "alice")
    await stop()
    assert out.splitlines()[0] == "Hanging up."
    assert out.splitlines()[1] == "ended: Completed, Hung up by staff by alice"
    assert received == [control.ControlCommand("hangup", "alice")]


async def test_it_names_the_os_user_when_no_one_is_given(
    live_call: Call, reachable_layer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "bob")
    received, stop = await start_runner(
        live_call.call_sid, lambda m: control.ControlReply(True, "ok")
    )
    await run_command("hangup", live_call.call_sid)
    await stop()
    assert received[0].requested_by == "command line (bob)"


async def test_it_transfers_with_the_number_and_message(
    live_call: Call, reachable_layer: None
) -> None:
    received, stop = await start_runner(
        live_call.call_sid,
        lambda m: control.ControlReply(True, f"Transferring to {m['to']}."),
    )
    out = await run_command(
        "transfer", live_call.call_sid, "+15551230000", "--message", "One moment"
    )
    await stop()
    assert out.strip() == "Transferring to +15551230000."
    assert received[0].to == "+15551230000"
    assert received[0].message == "One moment"


async def test_it_fails_with_the_runners_refusal(
    live_call: Call, reachable_layer: None
) -> None:
    _, stop = await start_runner(
        live_call.call_sid,
        lambda m: control.ControlReply(False, "a transfer is already under way"),
    )
    with pytest.raises(CommandError, match="a transfer is already under way"):
        await run_command("hangup", live_call.call_sid)
    await stop()


async def test_it_says_so_when_no_process_holds_the_call(
    live_call: Call, reachable_layer: None
) -> None:
    with pytest.raises(CommandError, match="not live on any server process"):
        await run_command("hangup", live_call.call_sid)


async def test_it_rejects_a_number_not_in_e164_form(
    live_call: Call, reachable_layer: None
) -> None:
    with pytest.raises(CommandError, match=r"E\.164"):
        await run_command("transfer", live_call.call_sid, "555-1234")


async def test_it_refuses_the_in_memory_layer_before_waiting(live_call: Call) -> None:
    # conftest configures InMemoryChannelLayer, as a settings without REDIS_URL do.
    with pytest.raises(CommandError, match="REDIS_URL"):
        await run_command("hangup", live_call.call_sid)


async def test_it_reports_unknown_and_ended_calls(assistant: Any) -> None:
    ended = await database_sync_to_async(make_call)(assistant=assistant)
    with pytest.raises(CommandError, match="no call CA404"):
        await run_command("hangup", "CA404")
    with pytest.raises(CommandError, match="already ended: Caller hung up"):
        await run_command("transfer", ended.call_sid, "+15551230000")


def _age(call: Call, **fields: Any) -> None:
    Call.objects.filter(pk=call.pk).update(**fields)


async def test_it_closes_stale_calls_and_counts_them(assistant: Any) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=1)
    lost = await database_sync_to_async(make_call)(
        assistant=assistant, live=True, stream_claimed_at=long_ago
    )
    await database_sync_to_async(_age)(lost, heartbeat_at=long_ago)
    never = await database_sync_to_async(make_call)(
        assistant=assistant, live=True, started_at=None, created_at=long_ago
    )
    healthy = await database_sync_to_async(make_call)(
        assistant=assistant,
        live=True,
        stream_claimed_at=long_ago,
        heartbeat_at=timezone.now(),
    )

    dry = await run_command("close-stale", "--dry-run")
    assert f"would close {lost.call_sid}: Server process lost the call" in dry
    assert f"would close {never.call_sid}: Media stream never opened" in dry
    assert dry.strip().endswith("2 calls would be closed (dry run)")
    assert await database_sync_to_async(Call.objects.filter(ended_at=None).count)() == 3

    out = await run_command(
        "close-stale", "--silent-seconds", "60", "--unstreamed-minutes", "5"
    )
    assert f"closed {lost.call_sid}: Server process lost the call" in out
    assert out.strip().endswith("2 stale calls closed")
    still_open: list[str] = await database_sync_to_async(
        lambda: list(
            Call.objects.filter(ended_at=None).values_list("call_sid", flat=True)
        )
    )()
    assert still_open == [healthy.call_sid]


async def test_it_says_so_when_the_call_does_not_end(
    live_call: Call, reachable_layer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An accepted hang-up whose end never arrives is an error, not "done"."""
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(control.group_name(live_call.call_sid), channel)

    async def accept_but_never_end() -> None:
        message = await layer.receive(channel)
        await control.reply(message["reply_to"], control.ControlReply(True, "ok"))

    task = asyncio.create_task(accept_but_never_end())
    with pytest.raises(CommandError, match="still in progress after 1 s"):
        await run_command("hangup", live_call.call_sid, "--wait", "1")
    await asyncio.wait_for(task, 2)
