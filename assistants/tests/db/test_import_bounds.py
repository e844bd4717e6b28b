"""Imports are bounded and refuse what no database stores, writing nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from assistants.config import MAX_DEPTH, MAX_ENTRIES, ConfigError
from assistants.management.commands.assistants import MAX_FILE_BYTES
from assistants.models import MAX_INSTRUCTIONS_CHARS, Assistant
from assistants.services import assistants_import


def refused(data: Any, *, dry_run: bool = False) -> str:
    with pytest.raises(ConfigError) as caught:
        assistants_import(data, dry_run=dry_run)
    assert not Assistant.objects.exists()
    return "\n".join(caught.value.errors)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_nul_character_is_refused_naming_entry_and_field(
    db: Any, dry_run: bool
) -> None:
    errors = refused(
        {"assistants": [{"name": "Front desk", "instructions": "Be\x00 kind."}]},
        dry_run=dry_run,
    )
    assert 'assistants[0] "Front desk": instructions: must not contain a NUL' in errors


def test_a_nul_character_in_a_name_is_refused(db: Any) -> None:
    errors = refused({"assistants": [{"name": "Front\x00desk"}]})
    assert "assistants[0]" in errors and "NUL" in errors


def test_deep_nesting_is_refused(db: Any) -> None:
    nested: Any = {}
    for _ in range(MAX_DEPTH + 5):
        nested = {"type": "object", "properties": {"x": nested}}
    tool = {
        "name": "t",
        "description": "d",
        "url": "https://x.example/",
        "parameters": nested,
    }
    errors = refused({"assistants": [{"name": "A", "tools": {"webhooks": [tool]}}]})
    assert f"nested more than {MAX_DEPTH} levels" in errors


def test_too_many_entries_are_refused(db: Any) -> None:
    entries = [{"name": f"A{i}"} for i in range(MAX_ENTRIES + 1)]
    assert f"at most {MAX_ENTRIES}" in refused({"assistants": entries})


def test_overlong_instructions_are_refused(db: Any) -> None:
    text = "x" * (MAX_INSTRUCTIONS_CHARS + 1)
    errors = refused({"assistants": [{"name": "A", "instructions": text}]})
    assert 'assistants[0] "A": instructions' in errors
    assert str(MAX_INSTRUCTIONS_CHARS) in errors.replace(",", "")


def test_the_command_refuses_an_oversized_file(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"assistants": [], "pad": "x" * MAX_FILE_BYTES}))
    with pytest.raises(CommandError, match="larger than"):
        call_command("assistants", "import", str(path))


def test_the_command_refuses_json_nested_past_the_parser(
    db: Any, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"assistants": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CommandError, match="nested too deeply"):
        call_command("assistants", "import", str(path))
