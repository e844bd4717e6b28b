"""The assistant admin's tools: inlines, shared validation, secrets shown once,
and the recording-notice warning (admin and system check)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from assistants.models import Assistant, HandoffRoute, TransferDestination, WebhookTool
from assistants.tests.support.admin_forms import ADD_URL, assistant_form, inlines
from assistants.webhook_secrets import masked, secret_problem


def shown_messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_it_renders_the_add_page_with_the_tool_inlines(admin_client: Any) -> None:
    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Tools",
        "Recording and privacy",
        "transfer_destinations-TOTAL_FORMS",
        "handoff_routes-TOTAL_FORMS",
        "webhook_tools-TOTAL_FORMS",
        "Keys that act at once, without the model",
        'value="card_number"',
    ):
        assert text in html


def test_it_saves_tools_and_shows_the_new_secret_once(
    admin_client: Any, other_assistant: Assistant
) -> None:
    form = assistant_form(
        **inlines(
            "handoff_routes",
            [{"target": str(other_assistant.pk), "description": "After hours."}],
        )
    )

    response = admin_client.post(ADD_URL, form, follow=True)

    assert response.status_code == 200, response.context.get("errors")
    sales = Assistant.objects.get(name="Sales")
    assert sales.keypad == {"0": {"transfer": "reception"}, "9": {"end_call": True}}
    assert sales.redact == ["card_number", "email"]
    assert (sales.silence_hang_up_after_seconds, sales.end_call_enabled) == (20, True)
    assert sales.transfer_destinations.get().name == "reception"
    assert sales.handoff_routes.get().target == other_assistant
    tool = sales.webhook_tools.get()
    assert secret_problem(tool.secret) == ""
    told = [m for m in shown_messages(response) if tool.secret in m]
    assert len(told) == 1 and "not shown again" in told[0]

    page = admin_client.get(f"/admin/assistants/assistant/{sales.pk}/change/")
    html = page.content.decode()
    assert tool.secret not in html
    assert masked(tool.secret) in html


def test_it_rotates_a_secret_and_shows_the_new_one_once(admin_client: Any) -> None:
    admin_client.post(ADD_URL, assistant_form())
    sales = Assistant.objects.get(name="Sales")
    tool, transfer = sales.webhook_tools.get(), sales.transfer_destinations.get()
    old = tool.secret
    form = assistant_form(
        **inlines(
            "transfer_destinations",
            [
                {
                    "id": str(transfer.pk),
                    "name": "reception",
                    "number": "+15557770000",
                    "description": "The front desk.",
                    "message": "",
                }
            ],
            initial=1,
        ),
        **inlines(
            "webhook_tools",
            [
                {
                    "id": str(tool.pk),
                    "name": "lookup_order",
                    "description": "Look up an order.",
                    "url": "https://erp.example.com/lookup",
                    "parameters": "{}",
                    "timeout_seconds": "5",
                    "filler": "",
                    "rotate_secret": "on",
                }
            ],
            initial=1,
        ),
    )

    response = admin_client.post(
        f"/admin/assistants/assistant/{sales.pk}/change/", form, follow=True
    )

    tool.refresh_from_db()
    assert tool.secret != old and secret_problem(tool.secret) == ""
    assert tool.secret_rotated_at is not None
    assert any(tool.secret in m for m in shown_messages(response))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"keypad": '{"0": {"transfer": "nobody"}}'},
            "Keypad &quot;0&quot;: transfer: &quot;nobody&quot; is not one of",
        ),
        ({"keypad": '{"A": {"end_call": true}}'}, "keys are single keys"),
        ({"silence_hang_up_after_seconds": "5"}, "must be longer than the reprompt"),
        (
            inlines(
                "webhook_tools",
                [
                    {
                        "name": "reception",
                        "description": "x",
                        "url": "https://erp.example.com/",
                        "parameters": "{}",
                        "timeout_seconds": "5",
                    }
                ],
            ),
            "&quot;reception&quot; is already the name of transfer[0]",
        ),
        (
            inlines(
                "webhook_tools",
                [
                    {
                        "name": "end_call",
                        "description": "x",
                        "url": "ftp://erp.example.com/",
                        "parameters": '{"type": "string"}',
                        "timeout_seconds": "31",
                    }
                ],
            ),
            "is a built-in function",
        ),
    ],
)
def test_it_refuses_what_the_import_refuses(
    admin_client: Any, changes: dict[str, str], expected: str
) -> None:
    response = admin_client.post(ADD_URL, assistant_form(**changes))

    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Assistant.objects.exists()
    assert not TransferDestination.objects.exists()
    assert not WebhookTool.objects.exists()
    assert not HandoffRoute.objects.exists()


def test_it_refuses_a_bad_webhook_url_schema_and_timeout(admin_client: Any) -> None:
    form = assistant_form(
        **inlines(
            "webhook_tools",
            [
                {
                    "name": "hook",
                    "description": "x",
                    "url": "ftp://erp.example.com/",
                    "parameters": '{"type": "string"}',
                    "timeout_seconds": "31",
                }
            ],
        )
    )

    response = admin_client.post(ADD_URL, form)

    errors = response.context["inline_admin_formsets"][3].formset.errors[0]
    assert set(errors) == {"url", "parameters", "timeout_seconds"}


def test_it_warns_when_a_recorded_assistant_does_not_tell_callers(
    admin_client: Any,
) -> None:
    response = admin_client.post(
        ADD_URL, assistant_form(recording_enabled="on"), follow=True
    )

    assert any("callers are not told" in m for m in shown_messages(response))


def test_the_system_check_warns_about_recording_without_a_notice(
    assistant: Assistant, other_assistant: Assistant
) -> None:
    assistant.recording_enabled = True
    assistant.pre_connect_message = ""
    assistant.save()
    other_assistant.recording_enabled = True
    other_assistant.pre_connect_message = "This call is recorded."
    other_assistant.save()

    warnings = [
        m for m in run_checks(databases=["default"]) if m.id == "assistants.W001"
    ]

    assert [w.msg for w in warnings] == [
        f'Assistant "{assistant.name}" records calls but has no pre-connect '
        "message, so callers are not told that they are recorded."
    ]
    assert "assistants.W001" not in [m.id for m in run_checks()]
