"""Assistants as code: export, import, and every refusal writing nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from assistants.config import NESTED_KEYS, SETTING_FIELDS, ConfigError
from assistants.models import Assistant, PhoneNumber
from assistants.services import assistants_export, assistants_import


def document(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"assistants": list(entries)}


def database_state() -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Everything an import could change, to prove a refusal changed nothing."""
    assistants = [dict(row) for row in Assistant.objects.order_by("pk").values()]
    for row in assistants:
        row.pop("updated_at")
    numbers = list(
        PhoneNumber.objects.order_by("pk").values_list(
            "number", "label", "is_active", "assistant_id"
        )
    )
    return assistants, numbers


def refusal(data: Any) -> list[str]:
    before = database_state()
    with pytest.raises(ConfigError) as caught:
        assistants_import(data)
    assert database_state() == before, "a refused import must write nothing"
    return caught.value.errors


def test_it_creates_assistants_with_numbers(db: Any) -> None:
    summary = assistants_import(
        document(
            {
                "name": "Reception",
                "instructions": "Be kind.",
                "voice": "coral",
                "temperature": 1,
                "phone_numbers": [
                    "+15550000010",
                    {"number": "+15550000011", "label": "Spare", "is_active": False},
                ],
            },
            {"name": "Minimal"},
        )
    )

    assert summary.created == ["Reception", "Minimal"]
    assert summary.numbers_added == ["+15550000010", "+15550000011"]
    reception = Assistant.objects.get(name="Reception")
    assert (reception.voice, reception.temperature) == ("coral", 1.0)
    spare = PhoneNumber.objects.get(number="+15550000011")
    assert (spare.assistant, spare.label, spare.is_active) == (
        reception,
        "Spare",
        False,
    )
    minimal = Assistant.objects.get(name="Minimal")
    assert minimal.voice == Assistant._meta.get_field("voice").default
    assert not minimal.phone_numbers.exists()


def test_it_updates_only_the_settings_given(phone_number: PhoneNumber) -> None:
    summary = assistants_import(document({"name": "Front desk", "voice": "sage"}))

    assistant = Assistant.objects.get(name="Front desk")
    assert summary.updated == ["Front desk"]
    assert assistant.voice == "sage"
    assert assistant.instructions.startswith("You answer the phone for ACME")
    assert list(assistant.phone_numbers.values_list("number", flat=True)) == [
        "+15550000001"
    ]


def test_it_round_trips_export_and_import(
    phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    PhoneNumber.objects.create(
        number="+15550000002", label="Night", is_active=False, assistant=other_assistant
    )
    PhoneNumber.objects.create(number="+15550000003", assistant=phone_number.assistant)
    other_assistant.is_fallback = True
    other_assistant.save()
    exported = assistants_export()
    night, front = exported["assistants"]
    assert list(front) == ["name", *SETTING_FIELDS, *NESTED_KEYS, "phone_numbers"]
    assert front["phone_numbers"] == [
        {"number": "+15550000001", "label": "Main line", "is_active": True},
        "+15550000003",
    ]
    assert night["phone_numbers"] == [
        {"number": "+15550000002", "label": "Night", "is_active": False}
    ]

    again = assistants_import(copy.deepcopy(exported))
    assert sorted(again.unchanged) == ["After hours", "Front desk"]
    assert again.created == again.updated == again.numbers_changed == []

    PhoneNumber.objects.all().delete()
    Assistant.objects.all().delete()
    assistants_import(copy.deepcopy(exported))
    assert assistants_export() == exported


def test_it_moves_a_number_to_another_assistant_in_the_file(
    phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    summary = assistants_import(
        document(
            {"name": "Front desk", "phone_numbers": []},
            {"name": "After hours", "phone_numbers": ["+15550000001"]},
        )
    )

    assert summary.numbers_changed == ["+15550000001"]
    assert summary.numbers_removed == []
    assert PhoneNumber.objects.get().assistant == other_assistant


def test_it_removes_numbers_an_assistant_no_longer_lists(
    phone_number: PhoneNumber,
) -> None:
    summary = assistants_import(
        document({"name": "Front desk", "phone_numbers": ["+15550000003"]})
    )

    assert summary.numbers_removed == ["+15550000001"]
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == [
        "+15550000003"
    ]


def test_it_moves_the_fallback_role_within_one_file(
    assistant: Assistant, other_assistant: Assistant
) -> None:
    assistant.is_fallback = True
    assistant.save()

    assistants_import(
        document(
            {"name": "After hours", "is_fallback": True},
            {"name": "Front desk", "is_fallback": False},
        )
    )

    assert Assistant.objects.get(is_fallback=True) == other_assistant


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"name": "New", "voice": "robot"},
            'assistants[1] "New": voice: "robot" is not one of "alloy"',
        ),
        (
            {"name": "New", "phone_numbers": ["+1 555 000 0001"]},
            'assistants[1] "New": phone_numbers[0]: "+1 555 000 0001": Enter the '
            "number in E.164 form",
        ),
        (
            {"name": "New", "colour": "blue"},
            'assistants[1] "New": unknown key(s) "colour"; allowed keys are "name"',
        ),
        ({"voice": "marin"}, 'assistants[1]: "name" is required'),
        ({"name": ""}, 'assistants[1]: "name" is required'),
        (
            {"name": "New", "temperature": "hot"},
            "temperature: must be a finite number, not text",
        ),
        ({"name": "New", "temperature": True}, "temperature: must be a finite number"),
        ({"name": "New", "temperature": float("nan")}, "must be a finite number"),
        ({"name": "New", "is_active": "yes"}, "is_active: must be true or false"),
        ({"name": "New", "max_call_duration_seconds": 60.5}, "must be a whole number"),
        ({"name": "New", "greeting": None}, "greeting: must be text, not null"),
        ({"name": "New", "temperature": 3}, "temperature: Ensure this value is less"),
        ({"name": "x" * 101}, "name: Ensure this value has at most 100 characters"),
        (
            {"name": "New", "phone_numbers": "+15550000009"},
            "phone_numbers: must be a list",
        ),
        (
            {"name": "New", "phone_numbers": [{"number": "+15550000009", "x": 1}]},
            'phone_numbers[0]: unknown key(s) "x"',
        ),
        ({"name": "New", "phone_numbers": [{"label": "A"}]}, '"number" is required'),
        (
            {"name": "New", "phone_numbers": [7]},
            "phone_numbers[0]: must be a number as text",
        ),
        (
            {"name": "New", "is_fallback": True, "is_active": False},
            'assistants[1] "New": is_fallback: An inactive assistant cannot be the '
            "fallback.",
        ),
        (
            {"name": "Front desk"},
            'assistants[1] "Front desk": the name is already used by '
            'assistants[0] "Front desk"',
        ),
        (
            {"name": "New", "phone_numbers": ["+15550000001"]},
            "phone_numbers: +15550000001 is also listed under assistants[0]",
        ),
        ("Front desk", "assistants[1]: must be an object, not text"),
    ],
)
def test_it_refuses_a_bad_entry_and_writes_nothing(
    phone_number: PhoneNumber, entry: Any, expected: str
) -> None:
    good = {"name": "Front desk", "voice": "ash", "phone_numbers": ["+15550000001"]}

    errors = refusal(document(good, entry))

    assert any(expected in error for error in errors), errors


def test_it_refuses_a_number_owned_by_an_assistant_not_in_the_file(
    phone_number: PhoneNumber,
) -> None:
    errors = refusal(
        document(
            {"name": "Brand new"},
            {"name": "Sales", "phone_numbers": ["+15550000002", "+15550000001"]},
        )
    )

    assert errors == [
        'assistants[1] "Sales": phone_numbers: +15550000001 already belongs to the '
        'assistant "Front desk", which is not in this file. Move the number in the '
        "admin first, or add that assistant to the file."
    ]


def test_it_refuses_a_second_fallback_and_writes_nothing(
    assistant: Assistant,
) -> None:
    assistant.is_fallback = True
    assistant.save()

    errors = refusal(
        document({"name": "Brand new"}, {"name": "Sales", "is_fallback": True})
    )

    assert errors == [
        'assistants[1] "Sales": is_fallback: Another assistant is already the '
        "fallback: Front desk. Untick it there first."
    ]


def test_it_refuses_two_fallbacks_in_one_file(db: Any) -> None:
    errors = refusal(
        document({"name": "A", "is_fallback": True}, {"name": "B", "is_fallback": True})
    )

    assert errors == [
        "At most one assistant can be the fallback; is_fallback is true for "
        'assistants[0] "A", assistants[1] "B".'
    ]


def test_it_refuses_a_number_listed_twice_by_one_entry(db: Any) -> None:
    errors = refusal(document({"name": "A", "phone_numbers": ["+15550000001"] * 2}))

    assert errors == ['assistants[0] "A": phone_numbers: +15550000001 is listed twice.']


@pytest.mark.parametrize(
    "data",
    [[], {"assistant": []}, {"assistants": {}}, None, "text"],
)
def test_it_refuses_a_document_of_the_wrong_shape(db: Any, data: Any) -> None:
    assert refusal(data) == ['The document must be an object: {"assistants": [...]}.']


def test_it_refuses_unknown_top_level_keys(db: Any) -> None:
    errors = refusal({"assistants": [{"name": "A"}], "version": 2})

    assert errors == ['Unknown top-level key(s): "version".']


def test_it_reports_every_problem_at_once(db: Any) -> None:
    errors = refusal(
        document({"name": "A", "voice": "robot"}, {"name": "B", "phone_numbers": ["1"]})
    )

    assert len(errors) == 2
    assert errors[0].startswith('assistants[0] "A": voice:')
    assert errors[1].startswith('assistants[1] "B": phone_numbers[0]:')


def test_it_reports_type_range_ownership_and_fallback_problems_in_one_pass(
    phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    other_assistant.is_fallback = True
    other_assistant.save()
    Assistant.objects.create(name="Sales")
    PhoneNumber.objects.create(
        number="+15550000009", assistant=Assistant.objects.get(name="Sales")
    )

    errors = refusal(
        document(
            # A type error must not hide the range error beside it.
            {"name": "Desk", "voice": 3, "temperature": 5.0},
            {"name": "Night line", "is_fallback": True, "vad_threshold": 2.0},
            {"name": "New", "phone_numbers": ["+15550000009"]},
        )
    )

    assert len(errors) == 5, errors
    assert errors[0].startswith('assistants[0] "Desk": voice: must be text')
    assert any('"Desk": temperature: Ensure this value' in e for e in errors)
    assert any('"Night line": vad_threshold: Ensure this value' in e for e in errors)
    assert any(
        '"Night line": is_fallback: Another assistant is already the fallback: '
        "After hours." in e
        for e in errors
    )
    assert any('already belongs to the assistant "Sales"' in e for e in errors)


def test_it_shows_what_a_dry_run_would_change_and_writes_nothing(
    phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    before = database_state()

    summary = assistants_import(
        document(
            {"name": "Front desk", "voice": "ash", "phone_numbers": []},
            {"name": "After hours", "phone_numbers": ["+15550000001"]},
            {"name": "Brand new", "phone_numbers": ["+15550000005"]},
        ),
        dry_run=True,
    )

    assert database_state() == before
    assert summary.created == ["Brand new"]
    assert summary.updated_fields == {"Front desk": ["voice"]}
    assert summary.numbers_added == ["+15550000005"]
    assert summary.number_changes == {
        "+15550000001": "moved from Front desk to After hours"
    }
    lines = summary.lines()
    assert "Would create assistants: Brand new" in lines
    assert "Would update assistants: Front desk (voice)" in lines
    assert (
        "Would move or change numbers: +15550000001 (moved from Front desk to "
        "After hours)" in lines
    )


def test_it_needs_allow_removals_to_take_every_number_away(
    phone_number: PhoneNumber,
) -> None:
    from calls.tests.support.review_helpers import make_call

    call = make_call(assistant=phone_number.assistant, phone_number=phone_number)
    empty = document({"name": "Front desk", "phone_numbers": []})

    errors = refusal(empty)
    assert errors == [
        'assistants[0] "Front desk": phone_numbers: this would remove every number '
        "from Front desk (+15550000001), so it would answer no calls. Pass "
        "--allow-removals (allow_removals=True) if that is what you want, or list "
        "the numbers to keep."
    ]
    dry = assistants_import(empty, dry_run=True, allow_removals=True)
    assert dry.lines() == [
        "Unchanged assistants: Front desk",
        "Would remove numbers: +15550000001 (from Front desk)",
    ]
    assert PhoneNumber.objects.exists()

    summary = assistants_import(empty, allow_removals=True)

    assert summary.numbers_removed == ["+15550000001"]
    assert not PhoneNumber.objects.exists()
    call.refresh_from_db()
    # The past call keeps the number it was made to; only the link is gone.
    assert (call.to_number, call.phone_number) == ("+15550000001", None)
