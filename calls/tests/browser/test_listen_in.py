"""Listen in, in Chromium: a simulated call runs on daphne B, the browser is on
daphne A (Redis joins them); the page shows the assistant's words as generated,
receives both sides' audio and plays it through Web Audio. Skipped without
/usr/bin/chromium (a failure when CI=true)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from calls.tests.support import e2e
from calls.tests.support.browser import (
    DESKTOP,
    let_a_server_process_log_in,
    log_in,
    shoot,
)


@pytest.mark.redis
def test_it_listens_in_to_a_call_handled_by_another_process(
    transactional_db: Any,
    autoplay_browser: Any,
    staff_user: Any,
    phone_number: Any,
    redis_url: str,
) -> None:
    let_a_server_process_log_in(staff_user)
    staff_user.user_permissions.add(Permission.objects.get(codename="listen_live_call"))
    simulator = e2e.start_simulator(realtime_factor=1.0)
    viewer = e2e.start_server(simulator.url, REDIS_URL=redis_url)
    handler = e2e.start_server(simulator.url, REDIS_URL=redis_url)
    try:
        page = autoplay_browser.new_context(viewport=DESKTOP).new_page()
        log_in(page, viewer.base_url, "/calls/live/")
        page.get_by_text("Live: the list updates").wait_for()

        options = e2e.caller_options(handler, script=e2e.quick_script(turns=3))
        caller = threading.Thread(target=e2e.run_call, args=(options,), daemon=True)
        caller.start()
        row = page.locator("#live-calls tr[data-call-sid]").first
        row.wait_for(timeout=15_000)
        row.get_by_role("button", name="Watch").click()
        # The assistant's words appear as generated, then the final turn replaces
        # them.
        partial = page.locator("#watch-transcript .turn.partial").first
        partial.wait_for(timeout=20_000)
        seq = partial.get_attribute("data-seq")
        final = page.locator(f'#watch-transcript .turn[data-seq="{seq}"]')
        page.locator(f'#watch-transcript .turn.partial[data-seq="{seq}"]').wait_for(
            state="detached", timeout=20_000
        )
        assert final.count() == 1 and final.inner_text().strip() != ""
        page.get_by_role("button", name="Listen in").click()
        page.get_by_text("Listening: both sides").wait_for(timeout=10_000)
        # Batches of both sides arrive from process B and the graph plays them.
        page.wait_for_function(
            "() => window.callListener && window.callListener.batches >= 5"
            " && window.callListener.samples.caller > 8000"
            " && window.callListener.samples.assistant > 0"
            " && window.callListener.context.currentTime > 0",
            timeout=20_000,
        )
        state = page.evaluate(
            "() => ({t: window.callListener.context.currentTime,"
            " s: window.callListener.context.state})"
        )
        assert state["t"] > 0 and state["s"] == "running", state
        shoot(page, "listen-in-desktop")
        page.get_by_role("button", name="Stop listening").click()
        assert page.evaluate("() => window.callListener") is None
        caller.join(timeout=40)
    finally:
        handler.stop()
        viewer.stop()
        simulator.stop()
