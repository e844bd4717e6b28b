"""The staff pages in headless Chromium: review a call, follow live calls.

Skipped when /usr/bin/chromium is absent (a failure when CI=true). Screenshots go
to artifacts/screenshots/ (git-ignored) for a person to look at.

The live test runs the app in its own daphne process with Redis as the channel
layer, and publishes events from another process, as the media consumer of a
second daphne process would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection

from calls.models import TranscriptEntry
from calls.runtime.bus.live_events import call_payload, entry_payload
from calls.tests.support.browser import (
    DESKTOP,
    PASSWORD,
    PHONE,
    fits_the_screen,
    let_a_server_process_log_in,
    log_in,
    shoot,
)
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call


@pytest.fixture
def review_data(assistant: Any, other_assistant: Any) -> Any:
    for index in range(8):
        make_call(
            assistant=other_assistant if index % 3 else assistant,
            status=("completed", "no-answer", "failed", "busy")[index % 4],
            from_number=f"+1555123{index:04d}",
            entries=CONVERSATION[: 2 + index % 4],
            **USAGE,
        )
    make_call(assistant=assistant, live=True, entries=CONVERSATION[:2])
    return make_call(assistant=assistant, entries=CONVERSATION, **USAGE)


def test_it_reviews_a_call_in_the_browser(
    live_server: Any, browser: Any, staff_user: Any, review_data: Any
) -> None:
    call = review_data
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        log_in(page, live_server.url, "/calls/")
        row = page.locator("tr", has=page.locator(f'a[href="/calls/{call.call_sid}/"]'))
        assert row.get_by_text("960 ms").is_visible()
        assert row.get_by_text("$0.5564").is_visible()
        assert page.get_by_role("heading", name="In progress (1)").is_visible()
        assert fits_the_screen(page), f"call log overflows on {name}"
        shoot(page, f"call-list-{name}")

        row.locator(f'a[href="/calls/{call.call_sid}/"]').click()
        page.wait_for_url(f"{live_server.url}/calls/{call.call_sid}/")
        caller = page.locator(".turn-caller", has_text="move my appointment to Friday")
        assistant = page.locator(".turn-assistant", has_text="Friday at ten or at two")
        assert caller.is_visible() and assistant.is_visible()
        assert assistant.get_by_text("sent 640 ms").is_visible()
        assert assistant.get_by_text("— interrupted by the caller").is_visible()
        assert caller.bounding_box()["x"] < assistant.bounding_box()["x"]
        assert page.get_by_text("at $32/M").first.is_visible()
        assert page.locator("#call-cost").inner_text() == "$0.5564"
        assert fits_the_screen(page), f"call page overflows on {name}"
        shoot(page, f"call-detail-{name}")

        page.get_by_role("link", name="Dashboard").click()
        page.wait_for_url(f"{live_server.url}/dashboard/")
        assert page.locator("svg.chart").count() == 3
        shoot(page, f"dashboard-{name}")
        context.close()


def test_it_shows_live_calls_without_javascript(
    live_server: Any, browser: Any, staff_user: Any, review_data: Any
) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, "/calls/live/")
    assert page.locator("#live-calls tr").count() == 1
    assert page.locator("#live-calls button").count() == 0  # Watch needs the script
    context.close()


def test_it_offers_call_controls_only_with_the_permission(
    live_server: Any, browser: Any, staff_user: Any, assistant: Any
) -> None:
    call = make_call(assistant=assistant, live=True, entries=CONVERSATION[:2])
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url, call.get_absolute_url())
    assert page.get_by_role("link", name="Hang up").count() == 0
    assert page.get_by_role("link", name="Transfer").count() == 0

    staff_user.user_permissions.add(Permission.objects.get(codename="control_call"))
    page.reload()
    shoot(page, "call-detail-controls-desktop")
    page.get_by_role("link", name="Hang up").click()
    page.wait_for_url(f"{live_server.url}/calls/{call.call_sid}/hangup/")
    assert page.get_by_role("heading", name="Hang up this call?").is_visible()
    assert page.get_by_text("+1555•••4321").is_visible()
    assert page.get_by_role("button", name="Hang up the call").is_visible()
    shoot(page, "confirm-hangup-desktop")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(live_server.url + call.get_absolute_url())
    page.get_by_role("link", name="Transfer").click()
    assert page.get_by_label("Transfer to").is_visible()
    assert page.get_by_label("Message to the caller").input_value() == (
        "Transferring you now"
    )
    # The live page: the socket is stood in for (live_server has no WebSocket);
    # it announces a call the server did not render, so live.js builds its row.
    arriving = {
        **call_payload(call),
        "call_sid": "CA" + "f" * 32,
        "from": "+1555•••0000",
    }

    def live_socket(socket: Any) -> None:
        socket.send(json.dumps({"type": "snapshot", "calls": []}))
        socket.send(json.dumps({"type": "call", "state": "started", "call": arriving}))

    page.route_web_socket("**/ws/calls/live/", live_socket)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/calls/live/")
    row = page.locator(f'tr[data-call-sid="{arriving["call_sid"]}"]')
    row.wait_for()
    hang_up = row.get_by_role("link", name="Hang up")
    assert hang_up.get_attribute("href") == f"/calls/{arriving['call_sid']}/hangup/"
    transfer = row.get_by_role("link", name="Transfer")
    assert transfer.get_attribute("href") == f"/calls/{arriving['call_sid']}/transfer/"
    assert fits_the_screen(page), "live page with call controls overflows on a phone"
    shoot(page, "live-calls-controls-phone")
    page.context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def app_env(transactional_db: Any, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceassistant.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def server(app_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """Process A: daphne serving the app, as ``make run`` does."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "voiceassistant.asgi:application",
        ],
        cwd=settings.BASE_DIR,
        env=app_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, tmp_path / "server.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/admin/login/", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not answer within 30 s:\n{log.read_text()}")


PUBLISHER = """
import asyncio, json, sys
import django
django.setup()
from calls.runtime.bus import live_events

async def main():
    for line in sys.stdin:
        event = json.loads(line)
        if event["kind"] == "call":
            await live_events.publish_call(event["call"], state=event["state"])
        else:
            await live_events.publish_transcript(event["call_sid"], event["entry"])
        print("ok", flush=True)

asyncio.run(main())
"""


@pytest.fixture
def publisher(app_env: dict[str, str]) -> Iterator[Any]:
    """Process B's stand-in: publishes live events into the same Redis."""
    process = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER],
        cwd=settings.BASE_DIR,
        env=app_env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None  # both are PIPEs

    def publish(**event: Any) -> None:
        stdin.write(json.dumps(event) + "\n")
        stdin.flush()
        assert stdout.readline().strip() == "ok"

    try:
        yield publish
    finally:
        stdin.close()
        process.wait(timeout=10)


@pytest.mark.redis
def test_it_follows_calls_published_by_another_process(
    server: str, publisher: Any, browser: Any, staff_user: Any, assistant: Any
) -> None:
    watched = make_call(assistant=assistant, live=True, entries=CONVERSATION[:2])
    let_a_server_process_log_in(staff_user)
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, server, "/calls/live/")
    page.get_by_text("Live: the list updates").wait_for()
    page.evaluate("() => { window.notReloaded = true; }")

    arriving = make_call(assistant=assistant, live=True)
    publisher(kind="call", state="started", call=call_payload(arriving))
    new_row = page.locator(f'tr[data-call-sid="{arriving.call_sid}"]')
    new_row.wait_for()
    assert new_row.get_by_text("+1555•••4321").is_visible()

    page.locator(f'tr[data-call-sid="{watched.call_sid}"]').get_by_role(
        "button", name="Watch"
    ).click()
    page.locator("#watch-transcript .turn").nth(1).wait_for()
    entry = TranscriptEntry.objects.create(
        call=watched,
        seq=2,
        role="assistant",
        text="Friday at ten works.",
        offset_ms=7000,
        reply_latency_ms=610,
    )
    publisher(kind="transcript", call_sid=watched.call_sid, entry=entry_payload(entry))
    page.locator("#watch-transcript").get_by_text("Friday at ten works.").wait_for()
    assert page.locator("#watch-transcript").get_by_text("sent 610 ms").is_visible()

    publisher(
        kind="call",
        state="ended",
        call={**call_payload(arriving), "status": "completed"},
    )
    new_row.wait_for(state="detached")
    assert page.evaluate("() => window.notReloaded") is True
    shoot(page, "live-calls-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, "live-calls-phone")
    assert fits_the_screen(page), "live page overflows on a phone"
    page.set_viewport_size(DESKTOP)

    page.goto(f"{server}/calls/{watched.call_sid}/")
    page.get_by_text("new turns appear as they complete").wait_for()
    entry = TranscriptEntry.objects.create(
        call=watched, seq=3, role="caller", text="Great, thanks!", offset_ms=9000
    )
    publisher(kind="transcript", call_sid=watched.call_sid, entry=entry_payload(entry))
    page.locator("#transcript .turn-caller", has_text="Great, thanks!").wait_for()
    shoot(page, "call-detail-live-desktop")


@pytest.mark.redis
def test_it_watches_a_simulated_call_handled_by_another_process(
    transactional_db: Any,
    browser: Any,
    staff_user: Any,
    phone_number: Any,
    redis_url: str,
) -> None:
    """Browser on daphne A; the call runs through daphne B; Redis joins them."""
    import threading

    from calls.tests.support import e2e

    let_a_server_process_log_in(staff_user)
    simulator = e2e.start_simulator(realtime_factor=1.0)
    viewer = e2e.start_server(simulator.url, REDIS_URL=redis_url)
    handler = e2e.start_server(simulator.url, REDIS_URL=redis_url)
    reports: list[Any] = []
    try:
        page = browser.new_context(viewport=DESKTOP).new_page()
        log_in(page, viewer.base_url, "/calls/live/")
        page.get_by_text("Live: the list updates").wait_for()
        page.evaluate("() => { window.notReloaded = true; }")

        options = e2e.caller_options(handler, script=e2e.quick_script(turns=3))
        caller = threading.Thread(
            target=lambda: reports.append(e2e.run_call(options)), daemon=True
        )
        caller.start()
        row = page.locator("#live-calls tr[data-call-sid]").first
        row.wait_for(timeout=15_000)
        call_sid = row.get_attribute("data-call-sid")
        row.get_by_role("button", name="Watch").click()
        turns = page.locator("#watch-transcript .turn")
        turns.first.wait_for(timeout=15_000)
        seen_at_first = turns.count()
        # The transcript grows while the call is still running on process B.
        # A function, not a string: the pages' CSP (script-src 'self') forbids
        # the eval Playwright needs for a string predicate.
        page.wait_for_function(
            "(seen) => document.querySelectorAll('#watch-transcript .turn')"
            ".length > seen",
            arg=seen_at_first,
            timeout=20_000,
        )
        shoot(page, "live-simulated-call-desktop")
        page.locator(f'#live-calls tr[data-call-sid="{call_sid}"]').wait_for(
            state="detached", timeout=30_000
        )
        caller.join(timeout=30)
        assert page.evaluate("() => window.notReloaded") is True
    finally:
        handler.stop()
        viewer.stop()
        simulator.stop()
    assert reports and reports[0].call_sid == call_sid
    call = e2e.finished_call(call_sid)
    assert call.status == "completed"
    stored = list(call.transcript_entries.values_list("text", flat=True))
    watched = page.locator("#watch-transcript .turn").all_inner_texts()
    # Every turn the browser showed is a row the handling process wrote.
    assert len(watched) >= 3
    assert all(any(text in shown for shown in watched) for text in stored[:2])


def test_it_fits_a_phone(
    live_server: Any, browser: Any, staff_user: Any, review_data: Any
) -> None:
    call = review_data
    make_call(
        assistant=call.assistant,
        end_reason="realtime_disconnected",
        error="the Realtime connection dropped",
    )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server.url, "/calls/")
    # The filters fold behind their button; the rows are compact cards.
    toggle = page.get_by_text("Filters", exact=True)
    assert toggle.is_visible()
    assert not page.get_by_label("Outcome").is_visible()
    first_row = page.locator("table.call-table tbody tr").first
    assert first_row.bounding_box()["height"] < 260
    assert page.locator(".badge.outcome-failed").first.is_visible()
    assert fits_the_screen(page), "call log overflows on a phone"
    shoot(page, "phone-call-list")
    toggle.click()
    assert page.get_by_label("Outcome").is_visible()
    assert fits_the_screen(page), "the open filters overflow on a phone"
    shoot(page, "phone-call-list-filters")

    page.goto(f"{live_server.url}/calls/{call.call_sid}/")
    facts = page.locator("dl.facts > div")
    first, second = facts.nth(0).bounding_box(), facts.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]
    assert fits_the_screen(page), "call page overflows on a phone"
    shoot(page, "phone-call-detail")

    page.goto(f"{live_server.url}/dashboard/")
    assert page.locator("#failures-table").is_visible()
    assert fits_the_screen(page), "dashboard overflows on a phone"
    label = page.locator("svg.chart .chart-label").first
    assert label.bounding_box()["height"] >= 11, "chart labels too small to read"
    shoot(page, "phone-dashboard")

    staff_user.user_permissions.clear()
    page.goto(f"{live_server.url}/calls/")
    assert page.get_by_text("calls.view_call").is_visible()
    assert fits_the_screen(page)
    shoot(page, "phone-403")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    assert fits_the_screen(page)
    shoot(page, "phone-login")
    context.close()


def test_it_fits_the_admin_call_list_in_1400_px(
    live_server: Any, browser: Any, staff_user: Any, review_data: Any
) -> None:
    make_call(
        assistant=review_data.assistant,
        call_sid="CA" + "e" * 32,
        end_reason="realtime_disconnected",
    )
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/calls/call/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/calls/call/")
    assert page.get_by_text("Voice engine connection dropped").first.is_visible()
    shoot(page, "admin-call-list-1400")
    assert fits_the_screen(page), "the admin call list is wider than 1400 px"
    # The admin scrolls a wide table inside its results box: it must not need to.
    assert page.evaluate(
        "() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth <= box.clientWidth + 1; }"
    ), "the admin call list's table scrolls sideways at 1400 px"
    context.close()
