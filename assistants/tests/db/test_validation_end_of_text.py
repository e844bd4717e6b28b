"""Validation patterns match the whole value: a trailing newline is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from assistants.config import ConfigError
from assistants.models import Assistant, e164_validator, tool_name_validator
from assistants.services import assistants_import
from calls.runtime.bus.control import is_e164


@pytest.mark.parametrize("value", ["+15550000020\n", "+15550000020\r\n"])
def test_an_e164_number_with_a_trailing_newline_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        e164_validator(value)
    assert not is_e164(value)


def test_a_tool_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValidationError):
        tool_name_validator("lookup_order\n")
    tool_name_validator("lookup_order")


def test_import_refuses_a_number_with_a_trailing_newline(db: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        assistants_import(
            {"assistants": [{"name": "Reception", "phone_numbers": ["+15550000020\n"]}]}
        )
    assert "phone_numbers[0]" in "\n".join(caught.value.errors)
    assert not Assistant.objects.exists()
