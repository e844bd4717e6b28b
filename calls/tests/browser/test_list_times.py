"""The call log's times stay on one line at 1400 px, beside long assistant names,
transfer badges and end reasons."""

from __future__ import annotations

from typing import Any

from calls.models import EndReason
from calls.tests.support.browser import log_in
from calls.tests.support.review_helpers import CONVERSATION, make_call


def test_call_list_times_do_not_wrap_at_1400_px(
    live_server: Any, browser: Any, staff_user: Any, assistant: Any
) -> None:
    assistant.name = "After-hours emergency line for the whole practice"
    assistant.save()
    for _ in range(3):
        make_call(
            assistant=assistant,
            entries=CONVERSATION,
            end_reason=EndReason.TRANSFERRED,
            transfer_to="+15559876543",
            transfer_status="no-answer",
            handoffs=2,
        )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, live_server.url, "/calls/")
    times = page.locator('td[data-label="Time"] time')
    assert times.count() == 3
    for i in range(times.count()):
        lines = times.nth(i).evaluate("t => t.getClientRects().length")
        assert lines == 1, "a call's time wraps"
