"""The assistants JSON's tools, recording and redaction keys: round trip, refusals
naming entry and field, and webhook secrets that never leave the database."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from assistants.config import ConfigError
from assistants.models import Assistant, HandoffRoute, TransferDestination, WebhookTool
from assistants.services import assistants_export, assistants_import
from assistants.webhook_secrets import PLACEHOLDER, generate_secret, secret_problem

TOOLS: dict[str, Any] = {
    "end_call": {"enabled": True, "goodbye": "Thanks for calling, goodbye."},
    "transfer": [
        {
            "name": "reception",
            "number": "+15557770000",
            "description": "A person at the front desk, for anything you cannot "
            "answer.",
            "message": "Let me put you through to reception.",
        }
    ],
    "handoff": [
        {
            "assistant": "Billing",
            "description": "Questions about invoices and payments.",
        }
    ],
    "keypad": {"0": {"transfer": "reception"}, "9": {"end_call": True}},
    "silence": {
        "reprompt_after_seconds": 8,
        "hang_up_after_seconds": 20,
        "reprompt": "Are you still there?",
    },
    "webhooks": [
        {
            "name": "lookup_order",
            "description": "Look up an order's status by its number.",
            "url": "https://erp.example.com/voice/lookup-order",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
            "timeout_seconds": 5,
            "filler": "One moment while I check.",
        }
    ],
}
FRONT_DESK: dict[str, Any] = {
    "name": "Front desk",
    "instructions": "You answer the phone for ACME.",
    "tools": TOOLS,
    "recording": {"enabled": False, "retention_days": 30},
    "transcript_retention_days": None,
    "redact": ["card_number", "ssn", "email", "phone_number"],
}


def example() -> dict[str, Any]:
    # Billing comes after Front desk: a handoff may name a later entry.
    return copy.deepcopy(
        {"assistants": [FRONT_DESK, {"name": "Billing", "instructions": "Invoices."}]}
    )


def database_state() -> list[list[dict[str, Any]]]:
    """Every row an import could change, to prove a refusal changed nothing."""
    state = []
    for model in (Assistant, TransferDestination, HandoffRoute, WebhookTool):
        rows = [dict(row) for row in model.objects.order_by("pk").values()]
        for row in rows:
            row.pop("updated_at", None)
        state.append(rows)
    return state


def refusal(data: Any) -> list[str]:
    before = database_state()
    with pytest.raises(ConfigError) as caught:
        assistants_import(data)
    assert database_state() == before, "a refused import must write nothing"
    return caught.value.errors


def entry(exported: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in exported["assistants"] if e["name"] == name)


def test_it_round_trips_the_full_example(db: Any) -> None:
    summary = assistants_import(example())
    assert summary.created == ["Front desk", "Billing"]

    exported = assistants_export()
    front = entry(exported, "Front desk")
    expected_tools = copy.deepcopy(TOOLS)
    expected_tools["webhooks"][0]["secret"] = PLACEHOLDER
    assert front["tools"] == expected_tools
    assert front["recording"] == {"enabled": False, "retention_days": 30}
    assert front["transcript_retention_days"] is None
    assert front["redact"] == ["card_number", "ssn", "email", "phone_number"]
    assert "secret" not in json.dumps(entry(exported, "Billing"))

    again = assistants_import(copy.deepcopy(exported))
    assert sorted(again.unchanged) == ["Billing", "Front desk"]
    assert again.updated == again.created == []
    assert assistants_export() == exported


def test_it_builds_the_rows_in_list_order(db: Any) -> None:
    data = example()
    transfers = data["assistants"][0]["tools"]["transfer"]
    transfers.append({**transfers[0], "name": "sales", "number": "+15557770001"})
    assistants_import(data)

    front = Assistant.objects.get(name="Front desk")
    assert list(front.transfer_destinations.values_list("name", "position")) == [
        ("reception", 0),
        ("sales", 1),
    ]
    route = front.handoff_routes.get()
    assert route.target == Assistant.objects.get(name="Billing")
    assert front.keypad == {"0": {"transfer": "reception"}, "9": {"end_call": True}}
    assert (front.silence_reprompt_after_seconds, front.end_call_enabled) == (8, True)
    assert front.recording_retention_days == 30


def test_it_replaces_the_rows_and_reports_the_change(db: Any) -> None:
    assistants_import(example())
    data = example()
    data["assistants"][0]["tools"]["transfer"][0]["number"] = "+15557770009"
    data["assistants"][0]["tools"]["keypad"] = {"9": {"end_call": True}}
    data["assistants"][0]["tools"]["webhooks"] = []

    summary = assistants_import(data)

    assert summary.updated == ["Front desk"]
    assert summary.updated_fields["Front desk"] == [
        "tools.keypad",
        "tools.transfer",
        "tools.webhooks",
    ]
    assert TransferDestination.objects.get().number == "+15557770009"
    assert not WebhookTool.objects.exists()


def test_it_keeps_lists_an_entry_does_not_mention(db: Any) -> None:
    assistants_import(example())

    assistants_import({"assistants": [{"name": "Front desk", "tools": {}}]})

    assert TransferDestination.objects.count() == 1
    assert WebhookTool.objects.count() == 1


def test_it_hands_off_to_an_assistant_already_in_the_database(db: Any) -> None:
    Assistant.objects.create(name="Billing")
    data = example()
    data["assistants"] = data["assistants"][:1]

    assistants_import(data)

    assert HandoffRoute.objects.get().target.name == "Billing"


def test_it_generates_a_secret_for_a_new_tool(db: Any) -> None:
    assistants_import(example())

    secret = WebhookTool.objects.get().secret
    assert secret.startswith("whsec_") and secret_problem(secret) == ""
    assert secret not in json.dumps(assistants_export())


def test_it_keeps_the_stored_secret_when_the_placeholder_comes_back(db: Any) -> None:
    assistants_import(example())
    stored = WebhookTool.objects.get().secret
    exported = assistants_export()
    assert entry(exported, "Front desk")["tools"]["webhooks"][0]["secret"] == (
        PLACEHOLDER
    )

    assistants_import(exported)

    tool = WebhookTool.objects.get()
    assert (tool.secret, tool.secret_rotated_at) == (stored, None)


def test_it_generates_a_secret_when_a_new_tool_brings_the_placeholder(db: Any) -> None:
    data = example()
    data["assistants"][0]["tools"]["webhooks"][0]["secret"] = PLACEHOLDER

    assistants_import(data)

    assert secret_problem(WebhookTool.objects.get().secret) == ""


def test_it_takes_a_given_secret_and_notes_the_rotation(db: Any) -> None:
    assistants_import(example())
    data = example()
    given = generate_secret()
    data["assistants"][0]["tools"]["webhooks"][0]["secret"] = given

    assistants_import(data)

    tool = WebhookTool.objects.get()
    assert tool.secret == given
    assert tool.secret_rotated_at is not None


def mutate(path: str, value: Any) -> dict[str, Any]:
    """The example with the value at ``path`` (dots and [n]) replaced."""
    data = example()
    target: Any = data["assistants"][0]
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


WHERE = 'assistants[0] "Front desk": '


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("tools.transfer[0].number", "555-0100", "tools.transfer[0].number: Enter"),
        ("tools.transfer[0].name", "has space", "tools.transfer[0].name: Use 1 to 64"),
        ("tools.transfer[0].name", "end_call", 'tools.transfer[0].name: "end_call"'),
        ("tools.transfer[0].number", 5, "tools.transfer[0].number: must be text"),
        (
            "tools.transfer[0].colour",
            "red",
            'tools.transfer[0]: unknown key(s) "colour"',
        ),
        ("tools.webhooks[0].name", "reception", 'tools.webhooks[0].name: "reception"'),
        ("tools.webhooks[0].name", "handoff", 'tools.webhooks[0].name: "handoff" is'),
        ("tools.webhooks[0].url", "ftp://erp.example.com/x", "tools.webhooks[0].url:"),
        ("tools.webhooks[0].timeout_seconds", 31, "tools.webhooks[0].timeout_seconds:"),
        ("tools.webhooks[0].timeout_seconds", 0, "tools.webhooks[0].timeout_seconds:"),
        ("tools.webhooks[0].parameters", {"type": "string"}, "parameters: must be an"),
        (
            "tools.webhooks[0].parameters",
            {"type": "object", "properties": {"a": {"type": "text"}}},
            'parameters: "type" must be one of',
        ),
        (
            "tools.webhooks[0].parameters",
            {"type": "object", "properties": []},
            'parameters: "properties" must be',
        ),
        (
            "tools.webhooks[0].secret",
            "whsec_c2hvcnQ=",
            "tools.webhooks[0].secret: must",
        ),
        ("tools.webhooks[0].secret", "abc", "tools.webhooks[0].secret: must start"),
        ("tools.handoff[0].assistant", "Nobody", 'no assistant is named "Nobody"'),
        (
            "tools.handoff[0].assistant",
            "Front desk",
            "cannot hand a call off to itself",
        ),
        ("tools.keypad", {"0": {"transfer": "nobody"}}, 'tools.keypad: "0": transfer:'),
        ("tools.keypad", {"A": {"end_call": True}}, 'tools.keypad: "A": keys are'),
        ("tools.keypad", {"1": {"end_call": False}}, 'tools.keypad: "1": must be'),
        ("tools.keypad", {"1": {"transfer": "reception", "x": 1}}, 'keypad: "1": must'),
        (
            "tools.silence.hang_up_after_seconds",
            8,
            "hang_up_after_seconds: must be lon",
        ),
        ("tools.silence.reprompt_after_seconds", 1, "reprompt_after_seconds: Ensure"),
        (
            "tools.silence.reprompt_after_seconds",
            "8",
            "reprompt_after_seconds: must be",
        ),
        ("tools.end_call", [], "tools.end_call: must be an object"),
        ("tools.end_call.enabled", "yes", "tools.end_call.enabled: must be true or"),
        ("tools.silence.after", 3, 'tools.silence: unknown key(s) "after"'),
        ("recording.retention_days", 0, "recording.retention_days: Ensure this"),
        ("recording.enabled", 1, "recording.enabled: must be true or false"),
        ("transcript_retention_days", "30", "transcript_retention_days: must be a"),
        ("redact", ["card_number", "dna"], 'redact: "dna" not known'),
        ("redact", "email", "redact: must be a list"),
    ],
)
def test_it_refuses_a_bad_tool_naming_entry_and_field_and_writes_nothing(
    db: Any, path: str, value: Any, expected: str
) -> None:
    errors = refusal(mutate(path, value))

    assert any(error.startswith(WHERE) and expected in error for error in errors), (
        errors
    )


def test_it_refuses_a_bad_tool_of_an_existing_assistant_and_writes_nothing(
    db: Any,
) -> None:
    assistants_import(example())

    errors = refusal(mutate("tools.transfer[0].number", "nope"))

    assert errors[0].startswith(WHERE + "tools.transfer[0].number: Enter the number")


def test_it_refuses_a_keypad_transfer_to_a_destination_the_file_removes(
    db: Any,
) -> None:
    assistants_import(example())

    errors = refusal(
        {"assistants": [{"name": "Front desk", "tools": {"transfer": []}}]}
    )

    assert errors == [
        WHERE + 'tools.keypad: "0": transfer: "reception" is not one of this '
        "assistant's transfer destinations (none)."
    ]


def test_it_reports_every_tool_problem_at_once(db: Any) -> None:
    data = mutate("tools.transfer[0].number", "nope")
    data["assistants"][0]["tools"]["webhooks"][0]["url"] = "mailto:x@example.com"

    errors = refusal(data)

    assert [error.split(": ")[1] for error in errors] == [
        "tools.transfer[0].number",
        "tools.webhooks[0].url",
    ]


def test_it_never_puts_a_given_secret_in_an_error(db: Any) -> None:
    secret = "whsec_" + "A" * 20  # too short, and must not be echoed
    errors = refusal(mutate("tools.webhooks[0].secret", secret))

    assert errors and secret not in "\n".join(errors)


def test_the_command_round_trips_the_full_example(db: Any, tmp_path: Any) -> None:
    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("assistants", *args, stdout=out)
        return out.getvalue()

    path = tmp_path / "in.json"
    path.write_text(json.dumps(example()), encoding="utf-8")
    run("import", str(path))
    exported = run("export")
    path.write_text(exported, encoding="utf-8")

    assert "Unchanged assistants: Billing, Front desk" in run("import", str(path))
    assert run("export") == exported
    assert '"secret": "whsec_stored"' in exported


def test_it_dry_runs_tool_changes_and_writes_nothing(db: Any) -> None:
    assistants_import(example())
    before = database_state()
    data = mutate("tools.transfer[0].message", "One moment.")

    summary = assistants_import(data, dry_run=True)

    assert summary.lines() == [
        "Would update assistants: Front desk (tools.transfer)",
        "Unchanged assistants: Billing",
    ]
    assert database_state() == before


def test_the_command_warns_when_recorded_callers_are_not_told(
    db: Any, tmp_path: Any
) -> None:
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps({"assistants": [{"name": "Desk", "recording": {"enabled": True}}]})
    )
    err = io.StringIO()

    call_command("assistants", "import", str(path), stdout=io.StringIO(), stderr=err)

    assert "Warning: Desk records calls but has no pre-connect message" in (
        err.getvalue()
    )


def test_it_checks_the_tools_of_an_entry_refused_for_another_reason(db: Any) -> None:
    assistants_import(example())
    data = example()
    del data["assistants"][0]["tools"]["transfer"]  # keypad names the stored one
    data["assistants"][0]["voice"] = "cinder"  # GPT-Live only: refused by clean()
    data["assistants"][0]["tools"]["webhooks"][0]["timeout_seconds"] = 99

    errors = refusal(data)

    assert [error.split(": ")[1] for error in errors] == [
        "voice",
        "tools.webhooks[0].timeout_seconds",
    ]
