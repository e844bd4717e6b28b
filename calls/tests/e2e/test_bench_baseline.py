"""The benchmark beside another bridge, end to end: a tiny run (2 calls, 1 s calls
and 0 s calls) of ours, a baseline started from a command and the floor relay,
interleaved; it writes the split and the ratios. No timing is asserted.

The baseline here is the floor relay itself under a plain uvicorn command, which
speaks Twilio's webhook and Media Stream as any other bridge would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_it_measures_a_baseline_and_the_floor_beside_ours(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    baseline = (
        f"exec {sys.executable} -m uvicorn calls.tooling.bench.floor:application "
        "--host 127.0.0.1 --port {port} --no-access-log"
    )
    command = [
        *[sys.executable, "-m", "calls.tooling.bench", "--quick"],
        *["--seconds", "1", "--first-reply-calls", "0", "--server", "uvicorn"],
        *["--floor", "uvicorn", "--lengths", "0,1", "--split-calls", "2"],
        *["--baseline", baseline, "--out", str(tmp_path), "--quiet-wait", "0"],
        *["--database-url", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "uvicorn x1 / baseline" in result.stdout
    document = json.loads((tmp_path / "latest.json").read_text())
    rows = {s["subject"]: s for s in document["scenarios"]}
    assert set(rows) == {"ours", "baseline", "floor"}
    for row in rows.values():
        (main,) = row["runs"]
        (short,) = row["lengths"]["0"]
        for run in (main, short):
            assert run["calls_failed"] == 0, run["errors"]
            assert run["warmup_errors"] == []
            assert run["whole_cpu_s"] >= 0
            assert run["calls_set_up"] == 2
        # The 0 s calls only set up, pass a frame back and hang up.
        assert short["call_seconds"] < main["call_seconds"]
        assert short["frames_back"] >= 2
        assert row["split"]["setup_method"] == "0 s calls"
        assert row["split"]["whole_ms_per_call"] is not None
