"""The benchmark end to end: a tiny run (2 calls, 2 s, one run) goes through and
writes sane JSON; no timing is asserted. ``make bench`` measures.

The connect and greeting measurements are marked ``bench``: ``make test`` leaves
them out (they time many calls); ``make test-bench`` runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_it_runs_the_benchmark_tiny_and_writes_well_formed_json(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    database = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    command = [
        sys.executable,
        "-m",
        "calls.tooling.bench",
        "--quick",
        "--out",
        str(tmp_path),
    ]
    result = subprocess.run(
        [*command, "--database-url", database],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CPU ms/call-s" in result.stdout
    document = json.loads((tmp_path / "latest.json").read_text())
    (scenario,) = document["scenarios"]
    assert (scenario["server"], scenario["workers"], scenario["calls"]) == (
        "daphne",
        1,
        2,
    )
    (run,) = scenario["runs"]
    check_run(run)
    assert scenario["median"]["frames_sent"] == run["frames_sent"]
    first = document["first_reply"]
    assert first["errors"] == []
    assert first["turns"] >= 1
    assert first["simulator_ms"] > 0
    assert first["total_ms"] == pytest.approx(first["simulator_ms"] + first["ours_ms"])
    assert {t["target"] for t in document["targets"]} >= {
        "frames lost at 2 calls",
        "RSS growth per call (MB) at 2 calls",
    }


def check_run(run: dict[str, Any]) -> None:
    assert run["calls_failed"] == 0, run["errors"]
    assert run["error_count"] == 0
    assert run["frames_sent"] > 0
    assert run["frames_back"] + run["frames_lost"] == run["frames_sent"]
    assert run["frames_back"] > 0
    assert run["foreign_frames"] == 0
    assert run["frames_timed"] > 0
    rtts = [run[f"rtt_{p}_ms"] for p in ("p50", "p95", "p99", "max")]
    assert rtts == sorted(rtts)
    assert rtts[0] > 0
    assert run["server_cpu_s"] > 0
    assert run["server_cpu_ms_per_call_s"] > 0
    assert 0 <= run["idle_fraction"] <= 1
    assert run["rss_before_bytes"] > 0
    assert run["loadgen_cores"] > 0


@pytest.mark.bench
def test_it_measures_the_early_connect_saving() -> None:
    from calls.tooling.bench import connect

    rows = connect.measure(calls=1, delays=[0, 50], slow_start_ms=0)
    assert [(r["connect"], r["start_delay_ms"]) for r in rows] == [
        ("at upgrade", 0),
        ("at upgrade", 50),
        ("at start", 0),
        ("at start", 50),
    ]
    for row in rows:
        assert 0 < row["min_ms"] <= row["median_ms"] <= row["max_ms"] < 10_000
    # Opened at start, the greeting cannot come before start itself.
    assert rows[3]["median_ms"] >= 50


@pytest.mark.bench
def test_it_measures_the_greeting_delay_from_start() -> None:
    from calls.tooling.bench import greeting

    row = greeting.measure(
        server="uvicorn",
        calls=2,
        accept_ms=0,
        first_audio_ms=100,
        extra={"GREETING_CACHE": "false"},
    )
    assert row["stand_in_fixed_ms"] == 100
    # The stand-in waits 100 ms before the first audio: nothing comes sooner.
    assert 100 <= row["min_ms"] <= row["p50_ms"] <= row["max_ms"] < 10_000
    assert row["p95_ms"] is not None
    # With the greeting cache (the default) the calls after the warm-up one play
    # the captured greeting before the stand-in could have produced any audio.
    cached = greeting.measure(
        server="uvicorn", calls=2, accept_ms=0, first_audio_ms=100, extra={}
    )
    assert cached["max_ms"] < 100 <= row["min_ms"]
