"""The documentation stays true to the repository.

``mkdocs build --strict`` (``make docs-build``, part of ``make test``) catches broken
links inside the site; these tests cover what it cannot see: the configuration page
against ``.env.example``, the README as the front door (short, its links resolve),
the assistants-as-code example against the keys ``assistants export`` writes, and
that nothing in the docs points outside the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistants import config

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CONFIGURATION = DOCS / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"

# An assignment in .env.example, commented out (a default) or not.
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# A variable's row in a configuration table: its name is the first cell.
TABLE_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)
# Markdown links and images: [text](target).
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
README_MAX_LINES = 250


def env_example_variables() -> set[str]:
    return set(ENV_LINE.findall(ENV_EXAMPLE.read_text()))


def documented_variables() -> list[str]:
    return TABLE_ROW.findall(CONFIGURATION.read_text())


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_env_example_has_variables() -> None:
    # Guards the pattern: an empty set would make the sync tests pass vacuously.
    assert len(env_example_variables()) > 40


def test_every_env_example_variable_is_documented() -> None:
    missing = env_example_variables() - set(documented_variables())
    assert not missing, f"docs/configuration.md has no row for: {sorted(missing)}"


def test_every_documented_variable_is_in_env_example() -> None:
    extra = set(documented_variables()) - env_example_variables()
    assert not extra, f"docs/configuration.md documents unknown: {sorted(extra)}"


def test_each_variable_is_documented_once() -> None:
    names = documented_variables()
    twice = sorted({name for name in names if names.count(name) > 1})
    assert not twice, f"docs/configuration.md has two rows for: {twice}"


def test_readme_is_a_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines"


def local_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    ]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_local_links_resolve_inside_the_repository(path: Path) -> None:
    for target in local_links(path):
        assert not target.startswith("/"), f"{path.name}: absolute link {target}"
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{path.name}: {target} leaves the repo"
        assert resolved.exists(), f"{path.name}: {target} does not exist"


def test_readme_links_into_the_docs() -> None:
    targets = {target.split("#", 1)[0] for target in local_links(README)}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert pages <= targets, f"README.md links to no {sorted(pages - targets)}"


# A parent-directory path, or an absolute path on someone's machine.
OUTSIDE = re.compile(
    r"(?<![\w.])\.\./|(?<![\w:/.])/(?:work|home|tmp|Users|mnt)/|file:/"
)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_no_reference_to_material_outside_the_repository(path: Path) -> None:
    found = OUTSIDE.search(path.read_text())
    assert found is None, f"{path.name} points outside the repository: {found}"


def assistants_example() -> dict[str, Any]:
    """The first JSON block of the assistants-as-code page: the export's shape."""
    text = (DOCS / "assistants-as-code.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None
    data: dict[str, Any] = json.loads(block[1])
    return data


def test_the_assistants_example_has_the_keys_export_writes() -> None:
    (entry,) = assistants_example()["assistants"]
    assert tuple(entry) == config.ENTRY_KEYS
    for path, keys in config.OBJECT_KEYS.items():
        value: Any = entry
        for part in path.split("."):
            value = value[part]
        assert tuple(value) == keys, path
    tools = entry["tools"]
    assert tuple(tools["transfer"][0]) == config.TRANSFER_KEYS
    assert tuple(tools["handoff"][0]) == config.HANDOFF_KEYS
    assert tuple(tools["webhooks"][0]) == config.WEBHOOK_KEYS
    assert tuple(entry["phone_numbers"][1]) == config.NUMBER_KEYS


def test_the_assistants_reference_table_names_every_entry_key() -> None:
    text = (DOCS / "assistants-as-code.md").read_text()
    rows = set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", text, flags=re.MULTILINE))
    missing = [key for key in config.ENTRY_KEYS if key not in rows]
    assert not missing, f"docs/assistants-as-code.md has no row for {missing}"


# Material kept beside the repository while it is written; no file may name it.
SHARED = re.compile(r"shared/reference|\.\./shared")


def test_no_tracked_file_names_material_beside_the_repository() -> None:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    this = Path(__file__).resolve().relative_to(ROOT).as_posix()
    found = []
    for name in listed:
        if name == this:
            continue
        try:
            text = (ROOT / name).read_text()
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        if SHARED.search(text):
            found.append(name)
    assert found == []
