"""The benchmark's results: medians over repeated runs, their spread, tables, targets.

Each figure of a scenario is the median of its runs; ``spread`` gives the min and
max across runs, so the table can say how noisy the machine was. Frames lost and
failed calls are summed over runs instead, so a single loss is never hidden.
``split`` adds steady state and set-up apart, and our rows as ratios to the
baseline's and the floor's.
"""

from __future__ import annotations

import os
import platform
import statistics
from typing import Any

from calls.tooling.bench import split, versus

MB = 1024 * 1024
MEDIAN_FIELDS = (
    "frames_sent",
    "frames_back",
    "rtt_p50_ms",
    "rtt_p95_ms",
    "rtt_p99_ms",
    "rtt_max_ms",
    "start_rtt_p50_ms",
    "server_cpu_ms_per_call_s",
    "server_cores",
    "rss_per_call_bytes",
    "idle_fraction",
    "loadgen_cores",
    "loadgen_max_tick_lag_ms",
    "setup_s",
)
SUM_FIELDS = ("frames_lost", "calls_failed", "foreign_frames", "error_count")
MAX_FIELDS = ("start_rtt_max_ms",)
LOADGEN_BUSY_CORES = 0.8


def _numbers(runs: list[dict[str, Any]], key: str) -> list[float]:
    return [run[key] for run in runs if isinstance(run.get(key), int | float)]


def aggregate(scenario: dict[str, Any], seconds: float = 1.0) -> dict[str, Any]:
    """Medians, spreads and sums of the main runs; the split over every length."""
    runs = scenario["runs"]
    median: dict[str, float | None] = {}
    spread: dict[str, list[float]] = {}
    for key in MEDIAN_FIELDS:
        values = _numbers(runs, key)
        median[key] = statistics.median(values) if values else None
        if values:
            spread[key] = [min(values), max(values)]
    for key in SUM_FIELDS:
        median[key] = sum(_numbers(runs, key))
    for key in MAX_FIELDS:
        median[key] = max(_numbers(runs, key), default=None)
    median["echo_cores"] = statistics.median(
        [run["other_cores"].get("echo", 0.0) for run in runs] or [0.0]
    )
    median["idle_before_min"] = min(_numbers(runs, "idle_before"), default=None)
    rss = median["rss_per_call_bytes"]
    median["rss_per_call_mb"] = None if rss is None else rss / MB
    parts = split.split(scenario, seconds)
    return {**scenario, "median": median, "spread": spread, "split": parts}


def noise(spread: dict[str, list[float]], median: dict[str, Any], key: str) -> str:
    """'(lo-hi)' for a figure, or '' with a single run."""
    low, high = spread.get(key, [None, None])
    if low is None or low == high:
        return ""
    return f" ({low:.1f}-{high:.1f})"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


COLUMNS = (  # title, width
    ("server", 21),
    ("calls", 6),
    ("sent", 8),
    ("back", 8),
    ("lost", 7),
    ("failed", 7),
    ("p50", 8),
    ("p95", 8),
    ("p99 (lo-hi)", 22),
    ("max", 9),
    ("CPU ms/call-s", 20),
    ("RSS/call", 10),
    ("idle", 6),
    ("loadgen", 8),
    ("setup", 7),
)
HEADER = " ".join(
    f"{title:<{width - 1}}" if i == 0 else f"{title:>{width - 1}}"
    for i, (title, width) in enumerate(COLUMNS)
)


def label(result: dict[str, Any]) -> str:
    """A scenario's row name: "uvicorn x1", "uvicorn x1 rec on", "floor uvicorn"."""
    subject = result.get("subject", "ours")
    if subject == "baseline":
        return "baseline"
    if subject == "floor":
        return f"floor {result['server']}"
    base = f"{result['server']} x{result['workers']}"
    recording = result.get("recording", "")
    return f"{base} rec {recording}" if recording else base


def table_row(result: dict[str, Any]) -> str:
    m, s = result["median"], result["spread"]
    rss = m["rss_per_call_bytes"]
    cells = [
        label(result),
        str(result["calls"]),
        _fmt(m["frames_sent"], 0),
        _fmt(m["frames_back"], 0),
        str(m["frames_lost"]),
        str(m["calls_failed"]),
        _fmt(m["rtt_p50_ms"]),
        _fmt(m["rtt_p95_ms"]),
        _fmt(m["rtt_p99_ms"]) + noise(s, m, "rtt_p99_ms"),
        _fmt(m["rtt_max_ms"]),
        _fmt(m["server_cpu_ms_per_call_s"], 2)
        + noise(s, m, "server_cpu_ms_per_call_s"),
        _fmt(None if rss is None else rss / MB, 2) + " MB",
        _fmt((m["idle_fraction"] or 0) * 100, 0) + "%",
        _fmt(m["loadgen_cores"], 2),
        _fmt(m["setup_s"]) + "s",
    ]
    return " ".join(
        f"{cell:<{width - 1}}" if i == 0 else f"{cell:>{width - 1}}"
        for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def warnings(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        m = r["median"]
        where = f"{label(r)}, {r['calls']} calls"
        if (m["loadgen_cores"] or 0) > LOADGEN_BUSY_CORES:
            out.append(
                f"{where}: the load generator used {m['loadgen_cores']:.2f} "
                "cores; its own lag inflates the round trips"
            )
        if (m["idle_before_min"] or 1) < 0.85:
            out.append(
                f"{where}: the machine was busy before a run "
                f"({m['idle_before_min']:.0%} idle); figures are distorted"
            )
        if m["calls_failed"]:
            out.append(f"{where}: {m['calls_failed']} calls failed")
    return out


# (what, calls (None: every N), figure, limit, strictly below?)
# Issue 14's (round two) targets; the first round's were 7 ms, 10 ms and 1 MB.
TARGETS = (
    ("CPU ms per call-second", 50, "server_cpu_ms_per_call_s", 6.0, False),
    ("p99 round trip (ms)", 50, "rtt_p99_ms", 5.0, True),
    ("p99 round trip (ms)", 200, "rtt_p99_ms", 50.0, True),
    ("calls not set up", 200, "calls_failed", 0, False),
    ("frames lost", None, "frames_lost", 0, False),
    ("RSS growth per call (MB)", None, "rss_per_call_mb", 0.5, True),
)


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, checked against the first server with one process."""
    if not results:
        return []
    ours = [r for r in results if r.get("subject", "ours") == "ours"]
    if not ours:
        return []
    server = ours[0]["server"]
    by_calls = {
        r["calls"]: r["median"]
        for r in ours
        if r["server"] == server
        and r["workers"] == 1
        and r.get("recording", "") != "on"  # the targets are without recording
    }
    checks = []
    for what, at, key, limit, strict in TARGETS:
        for calls in [at] if at is not None else sorted(by_calls):
            value = by_calls.get(calls, {}).get(key)
            if value is None:
                continue
            checks.append(
                {
                    "target": f"{what} at {calls} calls",
                    "value": value,
                    "limit": limit,
                    "met": value < limit if strict else value <= limit,
                }
            )
    return checks


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def render(document: dict[str, Any]) -> str:
    """The human-readable report: table, first-reply split, targets, warnings."""
    settings = document["settings"]
    m = document["machine"]
    lines = [
        f"Call-path benchmark, {document['when']}: {m['cores']} cores, {m['cpu']}, "
        f"Python {m['python']}",
        f"{settings['seconds']:g} s measured per run, median of "
        f"{settings['repeats']} run(s); (lo-hi) = range across runs. Round trips "
        "in ms; CPU = server processes' user+system time per call-second.",
        f"Load average at the start: {_loads(document.get('load_average_start'))}; "
        f"at the end: {_loads(m.get('load_average'))}.",
        "",
        HEADER,
        *(table_row(r) for r in document["scenarios"]),
    ]
    lines += _versus(document)
    recordings = document.get("recordings")
    if recordings:
        per_minute = recordings["bytes_per_minute"]
        lines += [
            "",
            f"Recordings written: {recordings['count']} rows, {recordings['files']} "
            f"WAV files ({recordings['file_bytes']} bytes), "
            + ("-" if per_minute is None else f"{per_minute:,.0f} bytes")
            + " per minute of call; spool files left: "
            f"{recordings['spool_files_left']}",
        ]
    first = document.get("first_reply")
    if first:
        lines += ["", "First reply (conversation mode, caller stops -> first audio):"]
        if first["total_ms"] is None:
            lines.append(f"  no turn measured: {first['errors']}")
        else:
            lines.append(
                f"  {first['total_ms']:.0f} ms median over {first['turns']} turns "
                f"= simulator {first['simulator_ms']} ms (VAD silence "
                f"{first['vad_silence_ms']} + model delay "
                f"{first['first_audio_delay_ms']}) + ours {first['ours_ms']:.1f} ms "
                f"(range {first['ours_min_ms']:.1f} to {first['ours_max_ms']:.1f})"
            )
    if document["targets"]:
        lines += ["", f"Targets ({document['scenarios'][0]['server']}, one process):"]
        for t in document["targets"]:
            mark = "met   " if t["met"] else "MISSED"
            lines.append(
                f"  {mark} {t['target']}: {t['value']:.2f} (limit {t['limit']:g})"
            )
    checks = document.get("ratio_targets") or []
    if checks:
        lines += ["", "Targets against the baseline (performance round three):"]
        for t in checks:
            mark = "met   " if t["met"] else "MISSED"
            lines.append(
                f"  {mark} {t['target']}: {t['value']:.2f} (at most {t['limit']})"
            )
    if document["warnings"]:
        lines += ["", "Warnings:", *(f"  {w}" for w in document["warnings"])]
    return "\n".join(lines)


def _loads(values: list[float] | None) -> str:
    return "-" if not values else " / ".join(f"{v:.2f}" for v in values)


def _versus(document: dict[str, Any]) -> list[str]:
    """Steady state and set-up apart; ours as ratios to the baseline and floor."""
    results = document["scenarios"]
    lines = [
        "",
        "Steady state and set-up (CPU of the whole process tree, ms; whole = "
        "the run from the first webhook to the last teardown):",
        *versus.split_table(results, label),
    ]
    ratios = versus.ratio_table(results, label)
    if ratios:
        lines += ["", "Ours as a ratio to the reference, same calls, same run:"]
        lines += ratios
    return lines
