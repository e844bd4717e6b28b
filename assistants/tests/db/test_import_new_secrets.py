"""An import that gives webhook tools new signing secrets says so, and how to
read them: the document never holds them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from assistants.models import WebhookTool
from assistants.services import assistants_import

DOCUMENT = {
    "assistants": [
        {
            "name": "Front desk",
            "tools": {
                "webhooks": [
                    {
                        "name": "lookup_order",
                        "description": "Look up an order.",
                        "url": "https://erp.example.com/lookup",
                        "secret": "whsec_stored",
                    }
                ]
            },
        }
    ]
}


def test_the_summary_names_the_tools_given_a_new_secret(db: Any) -> None:
    summary = assistants_import(DOCUMENT)
    assert summary.new_secrets == [("Front desk", "lookup_order")]
    assert any("Generated signing secrets" in line for line in summary.lines())
    # Imported again: the stored secret is kept, nothing is generated.
    assert assistants_import(DOCUMENT).new_secrets == []


def test_the_command_prints_each_new_secret_once(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "assistants.json"
    path.write_text(json.dumps(DOCUMENT))
    out = io.StringIO()
    call_command("assistants", "import", str(path), stdout=out)
    secret = WebhookTool.objects.get().secret
    assert f"Front desk: lookup_order: {secret}" in out.getvalue()

    again = io.StringIO()
    call_command("assistants", "import", str(path), stdout=again)
    assert secret not in again.getvalue()


def test_a_dry_run_says_it_would_generate_and_shows_none(
    db: Any, tmp_path: Path
) -> None:
    path = tmp_path / "assistants.json"
    path.write_text(json.dumps(DOCUMENT))
    out = io.StringIO()
    call_command("assistants", "import", str(path), "--dry-run", stdout=out)
    assert (
        "Would generate signing secrets for webhook tools: Front desk: lookup_order"
        in out.getvalue()
    )
    assert "whsec_" not in out.getvalue().replace("whsec_stored", "")
