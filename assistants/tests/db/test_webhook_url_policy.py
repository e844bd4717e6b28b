"""Import and admin refuse webhook URLs that point inside the deployment."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from assistants.config import ConfigError
from assistants.models import Assistant, WebhookTool
from assistants.services import assistants_import

TOOL = {
    "name": "lookup_order",
    "description": "Look up an order.",
    "url": "https://erp.example.com/voice/lookup-order",
    "parameters": {"type": "object", "properties": {}},
}


def document(url: str) -> dict[str, Any]:
    tool = copy.deepcopy(TOOL) | {"url": url}
    return {"assistants": [{"name": "Front desk", "tools": {"webhooks": [tool]}}]}


@pytest.fixture
def strict(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_INTERNAL = []


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:6379/",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
        "https://user:secret@erp.example.com/",
    ],
)
def test_import_refuses_internal_webhook_urls_and_writes_nothing(
    db: Any, strict: None, url: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        assistants_import(document(url))
    errors = "\n".join(caught.value.errors)
    assert "tools.webhooks[0].url" in errors, errors
    assert not Assistant.objects.exists()


def test_the_allow_list_lets_a_deployment_call_its_own_service(
    db: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_INTERNAL = ["erp.internal"]
    assistants_import(document("http://erp.internal:8080/lookup"))
    assert WebhookTool.objects.get().url == "http://erp.internal:8080/lookup"


def test_the_admin_form_refuses_an_internal_url(db: Any, strict: None) -> None:
    assistant = Assistant.objects.create(name="Front desk")
    tool = WebhookTool(
        assistant=assistant,
        name="lookup_order",
        description="Look up an order.",
        url="http://127.0.0.1:9000/",
        parameters={},
    )
    with pytest.raises(ValidationError) as caught:
        tool.clean()
    assert "internal address" in str(caught.value.message_dict["url"])
