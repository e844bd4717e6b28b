"""The call page's persona panel reads as a summary, never raw Python, and
shows webhook URLs only to those who may edit assistants."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client

from assistants.models import TransferDestination, WebhookTool
from calls.tests.support.review_helpers import make_call

URL = "https://erp.example.com/lookup?token=s3cr3t"


def call_with_tools(assistant: Any) -> Any:
    assistant.end_call_enabled = True
    assistant.end_call_goodbye = "Goodbye!"
    assistant.save()
    TransferDestination.objects.create(
        assistant=assistant, name="reception", number="+15557770000", position=0
    )
    WebhookTool.objects.create(
        assistant=assistant,
        name="lookup_order",
        description="Look up an order.",
        url=URL,
        parameters={},
        position=0,
    )
    return make_call(assistant=assistant)


def panel(client: Client, call: Any) -> str:
    html = client.get(f"/calls/{call.call_sid}/").content.decode()
    start = html.index('<details class="persona">')
    return html[start : html.index("</details>", start)]


def test_the_panel_lists_tools_and_settings_in_words(
    staff_client: Client, assistant: Any
) -> None:
    shown = panel(staff_client, call_with_tools(assistant))
    assert "Ends the call when it is done" in shown
    assert "Transfers to reception" in shown
    assert "Calls lookup_order" in shown
    assert "Voice model" in shown and "Turn detection" in shown
    for raw in ("{'", "True", "end_call", "snake", "backend_model", "(('"):
        assert raw not in shown, raw
    # A Realtime call: no GPT-Live backend model.
    assert "Backend model" not in shown


def test_agents_do_not_see_webhook_urls(staff_client: Client, assistant: Any) -> None:
    shown = panel(staff_client, call_with_tools(assistant))
    assert "erp.example.com" not in shown and "s3cr3t" not in shown
    assert "+15557770000" not in shown  # masked for those who do not see numbers


def test_assistant_editors_see_webhook_urls(
    staff_client: Client, staff_user: Any, assistant: Any
) -> None:
    staff_user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="assistants", codename="change_assistant"
        )
    )
    shown = panel(staff_client, call_with_tools(assistant))
    assert "erp.example.com/lookup" in shown
