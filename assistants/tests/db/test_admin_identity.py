"""The admin names the product, shows its icon, and says which engine an
assistant without one of its own runs on."""

from __future__ import annotations

from typing import Any

from assistants.models import Assistant


def test_the_admin_names_the_product_and_has_the_icon(admin_client: Any) -> None:
    html = admin_client.get("/admin/").content.decode()
    assert "Voice assistants administration" in html
    assert "Django administration" not in html
    assert 'rel="icon" href="/static/calls/favicon.svg"' in html


def test_an_assistant_without_an_engine_shows_the_one_it_will_use(
    admin_client: Any,
) -> None:
    Assistant.objects.create(name="Imported", engine="")
    html = admin_client.get("/admin/assistants/assistant/").content.decode()
    row = html[html.index("Imported") :]
    row = row[: row.index("</tr>")]
    assert "(deployment default)" in row
    assert "OpenAI Realtime" in row or "Realtime" in row
