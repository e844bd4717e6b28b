"""The protocol modules import no Django: checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Every module of these packages, so a new one is checked without a list to update.
PURE_PACKAGES = [
    "calls/vocabulary",
    "calls/engines",
    "calls/callstate",
    "calls/tools",
    "calls/recording",
]
PURE_MODULES = [
    "calls.telephony.media_stream",
    "calls.telephony.stream_token",
    "calls.pricing",
    "calls.privacy.redaction",
    *sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in PURE_PACKAGES
        for path in (ROOT / package).rglob("*.py")
    ),
]

SCRIPT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "django" or
                        m.startswith("django."))))
"""


def test_it_imports_the_protocol_modules_without_django() -> None:
    assert "calls.engines.openai_realtime.protocol" in PURE_MODULES
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *PURE_MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert json.loads(result.stdout) == []
