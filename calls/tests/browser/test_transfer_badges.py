"""The live table's transfer and handoff badges in headless Chromium, for a call
that arrives over the socket (stood in for: live_server has no WebSocket)."""

from __future__ import annotations

import json
from typing import Any

from calls.tests.support.browser import DESKTOP, log_in


def test_the_live_table_shows_the_transfer_and_handoff_badges(
    live_server: Any, browser: Any, staff_user: Any
) -> None:
    # As the viewer consumer sends it: the number already masked for this viewer.
    arriving = {
        "call_sid": "CA" + "e" * 32,
        "status": "in-progress",
        "direction": "inbound",
        "from": "+1555•••4321",
        "to": "+15550000001",
        "assistant": "After hours",
        "created_at": None,
        "started_at": None,
        "ended_at": None,
        "end_reason": "",
        "outcome": "",
        "transfer_to": "+1555•••6543",
        "transfer_status": "busy",
        "handoffs": 2,
    }
    plain = {
        **arriving,
        "call_sid": "CA" + "d" * 32,
        "transfer_to": "",
        "transfer_status": "",
        "handoffs": 0,
    }

    def live_socket(socket: Any) -> None:
        socket.send(json.dumps({"type": "snapshot", "calls": [plain]}))
        socket.send(json.dumps({"type": "call", "state": "started", "call": arriving}))

    page = browser.new_context(viewport=DESKTOP).new_page()
    page.route_web_socket("**/ws/calls/live/", live_socket)
    log_in(page, live_server.url, "/calls/live/")
    row = page.locator(f'tr[data-call-sid="{arriving["call_sid"]}"]')
    row.wait_for()

    assert row.locator(".tag-transferred").inner_text() == "→ +1555•••6543 (busy)"
    assert row.locator(".tag-handoff").inner_text() == "2 handoffs"
    other = page.locator(f'tr[data-call-sid="{plain["call_sid"]}"]')
    assert other.locator(".tag").count() == 0
    page.context.close()
