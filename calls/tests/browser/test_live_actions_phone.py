"""On a phone (390 px) the live page's actions for a call (listen in, watch, hang
up, transfer) are apart and tall enough to tap, not jammed together."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Permission

from calls.tests.support.browser import PHONE, fits_the_screen, log_in
from calls.tests.support.review_helpers import CONVERSATION, make_call


def test_the_live_pages_actions_can_be_tapped_on_a_phone(
    live_server: Any, browser: Any, staff_user: Any, assistant: Any
) -> None:
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["control_call", "listen_live_call"])
    )
    make_call(assistant=assistant, entries=CONVERSATION[:2], live=True)
    page = browser.new_page(viewport=PHONE)
    log_in(page, live_server.url, "/calls/live/")
    actions = page.locator("td.actions > *")
    assert actions.count() >= 3
    boxes = [actions.nth(i).bounding_box() for i in range(actions.count())]
    for box in boxes:
        assert box["height"] >= 36, "an action too small to tap"
    for left, right in itertools.pairwise(boxes):
        same_line = abs(left["y"] - right["y"]) < 1
        if same_line:
            assert right["x"] - (left["x"] + left["width"]) >= 6, "actions jammed"
    assert fits_the_screen(page)
