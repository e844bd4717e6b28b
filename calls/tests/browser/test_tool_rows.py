"""Tool rows in headless Chromium: folded on the call page, and live.js builds the
same folded row for one that arrives over the socket (stood in for, as in
``test_staff_pages``). Skipped when /usr/bin/chromium is absent."""

from __future__ import annotations

import json
from typing import Any

from calls.tests.support.browser import DESKTOP, log_in, shoot
from calls.tests.support.review_helpers import make_call

SAVED_TOOL = {
    "role": "tool",
    "tool_name": "book_slot",
    "tool_arguments": '{"day": "Friday"}',
    "tool_status": "ok",
    "duration_ms": 120,
    "text": '{"booked": true}',
}


def test_it_folds_tool_rows_on_the_page_and_live(
    live_server: Any,
    browser: Any,
    staff_user: Any,
    assistant: Any,
) -> None:
    call = make_call(
        assistant=assistant,
        live=True,
        entries=[{"role": "caller", "text": "Friday please."}, SAVED_TOOL],
    )
    arriving = {
        "seq": 2,
        "role": "tool",
        "text": "no answer in 5 s <b>",
        "offset_ms": 9000,
        "interrupted": False,
        "failed": False,
        "tool_name": "crm_lookup",
        "tool_arguments": '{"phone": "last4"}',
        "tool_status": "timeout",
        "duration_ms": 5000,
    }

    def live_socket(socket: Any) -> None:
        event = {"type": "transcript", "call_sid": call.call_sid, "entry": arriving}
        socket.send(json.dumps(event))

    page = browser.new_context(viewport=DESKTOP).new_page()
    page.route_web_socket("**/ws/calls/live/", live_socket)
    log_in(page, live_server.url, call.get_absolute_url())

    saved = page.locator('li.turn-tool[data-seq="1"] details.tool-call')
    assert saved.get_attribute("open") is None  # folded
    assert saved.locator("summary").inner_text().startswith("Tool")
    assert "120 ms" in saved.locator("summary").inner_text()
    assert not saved.locator(".tool-output").is_visible()
    saved.locator("summary").click()
    assert saved.locator(".tool-arguments").inner_text() == '{\n  "day": "Friday"\n}'

    live = page.locator('li.turn-tool[data-seq="2"] details.tool-call')
    live.wait_for(state="attached")
    assert live.get_attribute("open") is None
    assert "crm_lookup" in live.locator("summary").inner_text()
    assert "timeout" in live.locator("summary").inner_text()
    live.locator("summary").click()
    assert live.locator(".tool-arguments").inner_text() == '{\n  "phone": "last4"\n}'
    assert live.locator(".tool-output").inner_text() == "no answer in 5 s <b>"
    shoot(page, "call-detail-tools-desktop")
    page.context.close()


def test_it_shows_transfers_and_handoffs_in_the_browser(
    live_server: Any,
    browser: Any,
    staff_user: Any,
    assistant: Any,
    other_assistant: Any,
) -> None:
    from django.utils import timezone

    from calls.models import CallAssistant

    call = make_call(
        assistant=assistant,
        entries=[{"role": "caller", "text": "A person, please."}, SAVED_TOOL],
        end_reason="transferred",
        transfer_to="+15559876543",
        transfer_status="no-answer",
        streams=2,
        handoffs=1,
    )
    for name, who, offset in (
        ("Front desk", assistant, 0),
        ("After hours", other_assistant, 61_000),
    ):
        CallAssistant.objects.create(
            call=call,
            assistant=who,
            name=name,
            offset_ms=offset,
            started_at=timezone.now(),
        )
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url, "/calls/")
    row = page.locator("tr", has=page.locator(f'a[href="/calls/{call.call_sid}/"]'))
    assert row.locator(".tag-transferred").inner_text() == "→ +1555•••6543 (no answer)"
    assert row.locator(".tag-handoff").inner_text() == "1 handoff"
    shoot(page, "call-list-transfer-desktop")
    page.goto(live_server.url + call.get_absolute_url())
    assert page.locator("#handled-by li").count() == 2
    assert "+1555•••6543" in page.locator("#transfer").inner_text()
    shoot(page, "call-detail-transfer-desktop")
    page.context.close()
