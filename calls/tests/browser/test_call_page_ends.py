"""After a hang-up from the call's page, the page updates itself to the call's
final state: no "In progress", no controls, no "Reload for the final figures".
Skipped without /usr/bin/chromium (a failure when CI=true)."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.contrib.auth.models import Permission

from calls.models import Call
from calls.tests.support import e2e
from calls.tests.support.browser import DESKTOP, let_a_server_process_log_in, log_in


def _live_call_sid(deadline_s: float) -> str:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        call = Call.objects.filter(ended_at=None, status="in-progress").first()
        if call is not None and call.started_at is not None:
            return call.call_sid
        time.sleep(0.2)
    raise AssertionError("no call went live")


def test_the_call_page_shows_the_final_state_after_a_hang_up(
    transactional_db: Any, browser: Any, staff_user: Any, phone_number: Any
) -> None:
    let_a_server_process_log_in(staff_user)
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["control_call", "view_live_call"])
    )
    simulator = e2e.start_simulator(realtime_factor=1.0)
    server = e2e.start_server(simulator.url)
    try:
        options = e2e.caller_options(server, script=e2e.quick_script(turns=6))
        caller = threading.Thread(target=e2e.run_call, args=(options,), daemon=True)
        caller.start()
        sid = _live_call_sid(20)
        page = browser.new_context(viewport=DESKTOP).new_page()
        log_in(page, server.base_url, f"/calls/{sid}/")
        page.locator("#transcript[data-live-call]").wait_for(timeout=10_000)
        page.locator("#call-controls").get_by_text("Hang up").click()
        page.get_by_role("button", name="Hang up the call").click()
        page.wait_for_url(f"{server.base_url}/calls/{sid}/")
        # The page reaches the final state by itself (no reload by the test).
        page.locator("#transcript[data-live-call]").wait_for(
            state="detached", timeout=15_000
        )
        page.locator("#call-controls").wait_for(state="detached", timeout=5_000)
        text = page.locator("main").inner_text()
        assert "Reload for the final figures" not in text
        assert "In progress" not in text
        assert "Hung up by staff" in text
        caller.join(timeout=20)
    finally:
        server.stop()
        simulator.stop()
