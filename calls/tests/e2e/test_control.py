"""Call control end to end: hang up and transfer across two server processes on
Redis, and SIGTERM ending a process's calls cleanly.

The call streams to server B; the command runs in this test process and the
staff page is served by server A, so every command crosses the channel layer to
the process that holds the call. The Twilio simulator follows the
``<Connect action>`` answer like Twilio and reports ``<Dial>`` / ``<Hangup/>``.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission
from django.core.management import call_command

from calls.models import Call, CallStatus, EndReason, TranscriptEntry
from calls.tests.support import e2e
from calls.tests.support.live_call import LiveCall, StaffSession
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread

pytestmark = pytest.mark.django_db(transaction=True)

TRANSFER_TO = "+15550002222"
PASSWORD = "control-pass-123"


@pytest.fixture
def two_servers(
    server_kind: str,
    simulator: SimulatorThread,
    redis_url: str,
    phone_number: Any,
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two processes of one server kind, joined by Redis."""
    page_server = e2e.start_server(
        simulator.url, server=server_kind, REDIS_URL=redis_url
    )
    call_server = e2e.start_server(
        simulator.url, server=server_kind, REDIS_URL=redis_url
    )
    yield page_server, call_server
    call_server.stop()
    page_server.stop()


def system_rows(call: Call) -> list[str]:
    return list(
        TranscriptEntry.objects.filter(call=call, role="system").values_list(
            "text", flat=True
        )
    )


@pytest.mark.redis
def test_it_hangs_up_a_call_on_another_process_from_the_command_line(
    two_servers: tuple[ServerProcess, ServerProcess], redis_layer: None, capsys: Any
) -> None:
    _, call_server = two_servers
    with LiveCall(call_server) as live:
        call_command("calls", "hangup", live.call_sid, "--by", "ops on-call")
        report = live.report()
    assert f"hanging up {live.call_sid}" in capsys.readouterr().out
    assert report.hung_up_by == "server"
    assert report.after_stream == [("hangup",)]  # no apology, no dial
    call = e2e.finished_call(live.call_sid)
    assert (call.end_reason, call.ended_by) == (
        EndReason.HUNG_UP_BY_STAFF,
        "ops on-call",
    )
    assert system_rows(call) == ["Hung up by ops on-call"]


@pytest.mark.redis
def test_it_transfers_a_call_on_another_process_after_the_message(
    two_servers: tuple[ServerProcess, ServerProcess], redis_layer: None, settings: Any
) -> None:
    settings.TRANSFER_ALLOWED_PREFIXES = [TRANSFER_TO]  # the command checks it
    _, call_server = two_servers
    with LiveCall(call_server) as live:
        heard_before = len(live.reports)  # nothing yet: the call is on the line
        call_command(
            "calls",
            "transfer",
            live.call_sid,
            TRANSFER_TO,
            "--message",
            "Transferring you now",
            "--by",
            "ops",
        )
        report = live.report()
    assert heard_before == 0
    assert report.hung_up_by == "server"
    assert report.after_stream == [("dial", TRANSFER_TO, "+15550000001")]
    assert (report.dialed, report.dial_caller_id) == (TRANSFER_TO, "+15550000001")
    call = e2e.finished_call(live.call_sid)
    assert (call.end_reason, call.transfer_to, call.ended_by) == (
        EndReason.TRANSFERRED,
        TRANSFER_TO,
        "ops",
    )
    assert system_rows(call) == [
        f"Transferred to {TRANSFER_TO} by ops: Transferring you now"
    ]
    # The assistant said the message before the stream ended.
    spoken = call.transcript_entries.filter(role="assistant").count()
    assert spoken >= 2  # the greeting and the transfer message


@pytest.mark.redis
def test_it_hangs_up_from_the_staff_page_served_by_another_process(
    two_servers: tuple[ServerProcess, ServerProcess], staff_user: Any
) -> None:
    page_server, call_server = two_servers
    # The servers hash with Django's defaults, not the tests' fast MD5 hasher.
    staff_user.password = PBKDF2PasswordHasher().encode(PASSWORD, "controltest", 1000)
    staff_user.save(update_fields=["password"])
    staff_user.user_permissions.add(Permission.objects.get(codename="control_call"))
    browser = StaffSession(page_server.base_url, "staff", PASSWORD)
    with LiveCall(call_server) as live:
        page = browser.get(f"/calls/{live.call_sid}/")
        assert f"/calls/{live.call_sid}/hangup/" in page  # the live page's button
        confirm = browser.get(f"/calls/{live.call_sid}/hangup/")
        assert "Hang up" in confirm
        after = browser.post(f"/calls/{live.call_sid}/hangup/", confirm)
        report = live.report()
    assert f"hanging up {live.call_sid}" in after
    assert report.after_stream == [("hangup",)]
    call = e2e.finished_call(live.call_sid)
    assert (call.end_reason, call.ended_by) == (EndReason.HUNG_UP_BY_STAFF, "staff")
    assert system_rows(call) == ["Hung up by staff"]


def test_it_says_a_call_that_is_not_live_is_not_live(
    phone_number: Any, redis_layer: None
) -> None:
    from django.core.management.base import CommandError

    from calls.services.routing import call_route

    sid = "CA" + "e" * 32
    call_route(call_sid=sid, from_number="+15557654321", to_number="+15550000001")
    Call.objects.filter(call_sid=sid).update(status=CallStatus.IN_PROGRESS)
    with pytest.raises(CommandError, match="not live on any server process"):
        call_command("calls", "hangup", sid)


@pytest.mark.also_daphne
def test_it_ends_its_calls_cleanly_on_sigterm(
    simulator: SimulatorThread, phone_number: Any, server_kind: str
) -> None:
    server = e2e.start_server(simulator.url, server=server_kind)
    try:
        with LiveCall(server) as live:
            started = time.monotonic()
            exit_code = server.terminate()
            stopped_after = time.monotonic() - started
            report = live.report()
    finally:
        server.stop()
    # daphne exits 0; uvicorn, once shut down gracefully, re-raises the SIGTERM it
    # caught with the default handler restored, as its docs describe.
    assert exit_code in (0, -signal.SIGTERM)
    assert stopped_after < 15
    call = e2e.finished_call(live.call_sid)
    assert call.end_reason == EndReason.SERVER_SHUTDOWN
    assert call.status == CallStatus.COMPLETED
    # The stream closed normally and the <Connect action> was still answered:
    # the caller heard the unavailable message, then Twilio hung up.
    assert report.hung_up_by == "server"
    assert report.after_stream == [
        ("say", phone_number.assistant.unavailable_message),
        ("hangup",),
    ]
