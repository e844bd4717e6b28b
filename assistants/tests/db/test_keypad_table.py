"""The admin edits the keypad as a table, and its help text renders whole."""

from __future__ import annotations

from typing import Any

from assistants.models import Assistant, TransferDestination
from assistants.tests.support.admin_forms import ADD_URL, assistant_form


def test_the_keypad_is_a_table_of_keys_with_the_destinations_offered(
    admin_client: Any, assistant: Assistant
) -> None:
    TransferDestination.objects.create(
        assistant=assistant, name="reception", number="+15557770000", position=0
    )
    assistant.keypad = {"0": {"transfer": "reception"}}
    assistant.save()
    html = admin_client.get(
        f"/admin/assistants/assistant/{assistant.pk}/change/"
    ).content.decode()
    assert 'name="keypad-0-action"' in html and 'name="keypad-hash-action"' in html
    assert '<option value="reception">' in html
    assert 'value="reception"' in html  # key 0's destination, filled in
    # Help text: nothing in it is swallowed as an HTML tag.
    assert "transfer destinations below (by its name)" in html
    assert "{&quot;transfer&quot;: &quot;&quot;}" not in html


def test_posting_the_table_saves_the_same_json_as_the_assistants_file(
    admin_client: Any,
) -> None:
    form = assistant_form()
    del form["keypad"]
    form |= {
        **{f"keypad-{key}-action": "" for key in "123456789"},
        "keypad-0-action": "transfer",
        "keypad-0-transfer": "reception",
        "keypad-star-action": "end_call",
        "keypad-hash-action": "",
    }
    response = admin_client.post(ADD_URL, form, follow=True)
    assert response.status_code == 200
    sales = Assistant.objects.get(name="Sales")
    assert sales.keypad == {"0": {"transfer": "reception"}, "*": {"end_call": True}}


def test_a_transfer_key_without_a_destination_is_refused(admin_client: Any) -> None:
    form = assistant_form()
    del form["keypad"]
    form |= {"keypad-5-action": "transfer", "keypad-5-transfer": ""}
    response = admin_client.post(ADD_URL, form)
    assert response.status_code == 200  # the form again, with the error
    assert not Assistant.objects.filter(name="Sales").exists()
