"""The protocol modules import no Django: checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "calls.telephony.media_stream",
    "calls.engines.openai_realtime",
    "calls.engines.openai_realtime.client",
    "calls.engines.openai_realtime.events",
    "calls.engines.openai_realtime.parser",
    "calls.engines.openai_realtime.server_events",
    "calls.callstate",
    "calls.callstate.actions",
    "calls.callstate.core",
    "calls.callstate.realtime_side",
    "calls.callstate.responses",
    "calls.callstate.turns",
    "calls.telephony.stream_token",
    "calls.pricing",
    "calls.usage",
]

SCRIPT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "django" or
                        m.startswith("django."))))
"""


def test_it_imports_the_protocol_modules_without_django() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *PURE_MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert json.loads(result.stdout) == []
