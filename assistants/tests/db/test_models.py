"""Assistant and PhoneNumber rules: the constraints the database and forms enforce."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assistants.models import Assistant, PhoneNumber


def test_it_refuses_a_duplicate_name(assistant: Assistant) -> None:
    duplicate = Assistant(name=assistant.name)

    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "name" in caught.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Assistant.objects.create(name=assistant.name)


def test_it_allows_only_one_fallback(
    assistant: Assistant, other_assistant: Assistant
) -> None:
    assistant.is_fallback = True
    assistant.save()
    other_assistant.is_fallback = True

    with pytest.raises(ValidationError) as caught:
        other_assistant.full_clean()
    assert caught.value.messages == [
        "Another assistant is already the fallback: Front desk. Untick it there first."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        other_assistant.save()


def test_it_refuses_an_inactive_fallback(assistant: Assistant) -> None:
    assistant.is_fallback = True
    assistant.is_active = False

    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "is_fallback" in caught.value.message_dict


@pytest.mark.parametrize("number", ["+15550000001", "+442071838750", "+4930123"])
def test_it_accepts_e164_numbers(assistant: Assistant, number: str) -> None:
    PhoneNumber(number=number, assistant=assistant).full_clean()


@pytest.mark.parametrize(
    "number",
    [
        "15550000001",
        "+1 555 000 0001",
        "+05550000001",
        "+1555000000012345",
        "+",
        "tel:+1555",
    ],
)
def test_it_refuses_other_number_formats(assistant: Assistant, number: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PhoneNumber(number=number, assistant=assistant).full_clean()
    assert "E.164" in caught.value.message_dict["number"][0]


def test_it_refuses_a_number_twice(
    phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    duplicate = PhoneNumber(number=phone_number.number, assistant=other_assistant)

    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "number" in caught.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_it_keeps_an_assistant_with_numbers(phone_number: PhoneNumber) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        phone_number.assistant.delete()


def test_it_names_things_for_staff(phone_number: PhoneNumber, db: Any) -> None:
    assert str(phone_number) == "+15550000001 (Main line)"
    assert str(phone_number.assistant) == "Front desk"
