"""The call state, the runtime and the pages know no engine's wire format: grep
them for GPT-Live's event names (and the Realtime engine's own package name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calls.engines.openai_live import events as live_events
from calls.engines.openai_live import server_events as live_server_events

ROOT = Path(__file__).resolve().parents[3]
NEUTRAL = (
    "calls/callstate",
    "calls/runtime",
    "calls/review",
    "templates/calls",
)
LIVE_EVENT_NAMES = sorted(
    {
        value
        for module in (live_events, live_server_events)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and value.startswith("session.")
    }
    | {"response.event", "openai_live", "gpt-live"}
)


def neutral_files() -> list[Path]:
    files: list[Path] = []
    for folder in NEUTRAL:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".html", ".js", ".txt") and path.is_file():
                files.append(path)
    # The composition root is neutral too: it reads each engine's URL and key by
    # the setting names the engine's spec gives.
    assert ROOT / "calls/runtime/assembly.py" in files
    return files


def test_it_knows_the_gpt_live_event_names() -> None:
    assert "session.output_audio.delta" in LIVE_EVENT_NAMES
    assert "session.input_transcript.delta" in LIVE_EVENT_NAMES
    assert "session.closed" in LIVE_EVENT_NAMES
    assert len(neutral_files()) > 20


@pytest.mark.parametrize("name", LIVE_EVENT_NAMES)
def test_it_finds_no_gpt_live_event_name_outside_the_engine(name: str) -> None:
    found = [
        str(path.relative_to(ROOT))
        for path in neutral_files()
        if name in path.read_text(encoding="utf-8", errors="replace").lower()
    ]
    assert found == []
