"""The assistants admin renders and edits for a staff superuser."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assistants.models import Assistant, PhoneNumber
from calls.engines import registry
from calls.models import Call


def make_calls(assistant: Assistant, phone: PhoneNumber | None, count: int) -> None:
    for index in range(count):
        Call.objects.create(
            call_sid=f"CA{assistant.pk}x{index}",
            assistant=assistant,
            phone_number=phone,
        )


def test_it_lists_assistants_with_call_counts(
    admin_client: Any, phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    make_calls(phone_number.assistant, phone_number, 3)

    response = admin_client.get("/admin/assistants/assistant/")

    assert response.status_code == 200
    html = response.content.decode()
    link = f'<a href="/calls/?assistant={phone_number.assistant.pk}">3</a>'
    assert link in html
    assert f'<a href="/calls/?assistant={other_assistant.pk}">0</a>' in html
    assert "+15550000001" in html


def test_it_lists_assistants_without_a_query_per_row(
    admin_client: Any, db: Any
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/assistants/assistant/").status_code == 200
        return len(captured)

    for index in range(2):
        assistant = Assistant.objects.create(name=f"A{index}")
        PhoneNumber.objects.create(number=f"+1555000010{index}", assistant=assistant)
    few = queries()
    for index in range(2, 8):
        assistant = Assistant.objects.create(name=f"A{index}")
        PhoneNumber.objects.create(number=f"+1555000010{index}", assistant=assistant)
        make_calls(assistant, None, 2)

    assert queries() == few


def test_it_renders_the_add_page_with_model_suggestions(admin_client: Any) -> None:
    response = admin_client.get("/admin/assistants/assistant/add/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'list="id_model_suggestions"' in html
    assert '<datalist id="id_model_suggestions">' in html
    for model in registry.models():
        assert f'<option value="{model}">' in html
    assert 'list="id_transcription_model_suggestions"' in html
    for legend in ("Persona", "Voice and model", "Turn-taking", "Limits and status"):
        assert legend in html
    assert "The system message" in html  # help text


def test_it_renders_the_change_page_with_numbers_inline(
    admin_client: Any, phone_number: PhoneNumber
) -> None:
    url = f"/admin/assistants/assistant/{phone_number.assistant.pk}/change/"

    response = admin_client.get(url)

    assert response.status_code == 200
    assert 'value="+15550000001"' in response.content.decode()


def test_it_creates_an_assistant_with_a_number(admin_client: Any, db: Any) -> None:
    form = {
        "name": "Sales",
        "instructions": "Sell.",
        "unavailable_message": "Sorry.",
        "voice": "ash",
        "model": "my-azure-deployment",
        "temperature": "0.8",
        "transcription_model": "",
        "turn_detection": "server_vad",
        "vad_threshold": "0.5",
        "vad_prefix_padding_ms": "300",
        "vad_silence_duration_ms": "500",
        "vad_eagerness": "auto",
        "max_call_duration_seconds": "600",
        "is_active": "on",
        "phone_numbers-TOTAL_FORMS": "1",
        "phone_numbers-INITIAL_FORMS": "0",
        # The tool inlines, empty.
        "transfer_destinations-TOTAL_FORMS": "0",
        "transfer_destinations-INITIAL_FORMS": "0",
        "handoff_routes-TOTAL_FORMS": "0",
        "handoff_routes-INITIAL_FORMS": "0",
        "webhook_tools-TOTAL_FORMS": "0",
        "webhook_tools-INITIAL_FORMS": "0",
        "phone_numbers-0-number": "+15550000077",
        "phone_numbers-0-label": "Sales line",
        "phone_numbers-0-is_active": "on",
    }

    response = admin_client.post("/admin/assistants/assistant/add/", form)

    assert response.status_code == 302, response.context["errors"]
    sales = Assistant.objects.get(name="Sales")
    assert sales.model == "my-azure-deployment"
    assert sales.phone_numbers.get().label == "Sales line"


def test_it_explains_why_the_fallback_cannot_be_deactivated_in_the_list(
    admin_client: Any, assistant: Assistant
) -> None:
    assistant.is_fallback = True
    assistant.save()
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(assistant.pk),
        "form-0-is_fallback": "on",
        "_save": "Save",
    }

    response = admin_client.post("/admin/assistants/assistant/", form)

    assert response.status_code == 200
    assert "An inactive assistant cannot be the fallback." in response.content.decode()
    assistant.refresh_from_db()
    assert assistant.is_active


def test_it_lists_numbers_with_calls_today(
    admin_client: Any, phone_number: PhoneNumber
) -> None:
    make_calls(phone_number.assistant, phone_number, 2)

    response = admin_client.get("/admin/assistants/phonenumber/")

    assert response.status_code == 200
    assert response.context["cl"].result_list[0].calls_today == 2
    html = response.content.decode()
    assert "Front desk" in html
    assert "/calls/?number=%2B15550000001&amp;date_from=" in html


def test_it_renders_the_number_pages(
    admin_client: Any, phone_number: PhoneNumber
) -> None:
    assert admin_client.get("/admin/assistants/phonenumber/add/").status_code == 200
    change = admin_client.get(
        f"/admin/assistants/phonenumber/{phone_number.pk}/change/"
    )
    assert change.status_code == 200
    search = admin_client.get("/admin/assistants/phonenumber/?q=Front")
    assert search.context["cl"].result_count == 1


def test_it_edits_long_messages_in_textareas(admin_client: Any, db: Any) -> None:
    html = admin_client.get("/admin/assistants/assistant/add/").content.decode()
    for name in ("pre_connect_message", "unavailable_message"):
        assert f'<textarea name="{name}"' in html, name
        assert 'maxlength="500"' in html
