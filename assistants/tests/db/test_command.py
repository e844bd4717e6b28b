"""``manage.py assistants import|export``: files, stdin and error reporting."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assistants.models import Assistant, PhoneNumber


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("assistants", *args, stdout=out)
    return out.getvalue()


def test_it_exports_json_that_imports_back_unchanged(
    phone_number: PhoneNumber, other_assistant: Assistant, tmp_path: Path
) -> None:
    exported = run("export")
    path = tmp_path / "assistants.json"
    path.write_text(exported, encoding="utf-8")

    output = run("import", str(path))

    assert "Unchanged assistants: After hours, Front desk" in output
    assert json.loads(exported)["assistants"][1]["name"] == "Front desk"
    assert run("export") == exported


def test_it_imports_from_a_file(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(
            {"assistants": [{"name": "Desk", "phone_numbers": ["+15550000042"]}]}
        )
    )

    output = run("import", str(path))

    assert "Created assistants: Desk" in output
    assert "Added numbers: +15550000042" in output
    assert PhoneNumber.objects.get().assistant.name == "Desk"


def test_it_imports_from_stdin(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"assistants": [{"name": "Desk"}]}'))

    output = run("import", "-")

    assert "Created assistants: Desk" in output


def test_it_says_so_when_the_file_is_empty(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"assistants": []}'))

    assert "nothing to do" in run("import", "-")


def test_it_refuses_broken_json_and_writes_nothing(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"assistants": [{"name": "Desk",]}')

    with pytest.raises(CommandError) as caught:
        run("import", str(path))

    assert "is not valid JSON (line 1, column 33" in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert not Assistant.objects.exists()


def test_it_lists_every_reason_for_a_refusal(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"assistants": [{"name": "Desk", "voice": "robot"}]}))

    with pytest.raises(CommandError) as caught:
        run("import", str(path))

    message = str(caught.value)
    assert message.startswith(f"{path} was refused; nothing was changed.")
    assert '  - assistants[0] "Desk": voice: "robot" is not one of' in message
    assert not Assistant.objects.exists()


def test_it_explains_an_unreadable_file(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.json"):
        run("import", str(tmp_path / "missing.json"))


def test_it_requires_an_action(db: Any) -> None:
    with pytest.raises(CommandError, match=r"(?i)action"):
        call_command("assistants")


def test_it_dry_runs_and_needs_a_flag_to_remove_every_number(
    phone_number: PhoneNumber, tmp_path: Path
) -> None:
    path = tmp_path / "empty.json"
    path.write_text(
        json.dumps({"assistants": [{"name": "Front desk", "phone_numbers": []}]})
    )

    with pytest.raises(CommandError, match="--allow-removals"):
        run("import", str(path))
    out = run("import", "--dry-run", "--allow-removals", str(path))
    assert out.splitlines() == [
        "Dry run: nothing was written.",
        "Unchanged assistants: Front desk",
        "Would remove numbers: +15550000001 (from Front desk)",
    ]
    assert PhoneNumber.objects.exists()
    out = run("import", "--allow-removals", str(path))
    assert "Removed numbers: +15550000001 (from Front desk)" in out
    assert not PhoneNumber.objects.exists()
