"""Steady state and set-up told apart, and our figures as ratios to a reference.

Every run reports the whole run's CPU (``whole_cpu_s``: the subject's process tree
from before the first webhook to after the last teardown), the calls set up and
the seconds they streamed, summed (``call_seconds``). A run's CPU is then
set-up * calls + steady * call-seconds, so runs of two lengths give both:

- steady state, per call-second: the difference of the whole-run CPU of two
  lengths over the difference of their call-seconds (set-up cancels out);
  with one length only, the measurement window's CPU per call-second;
- set-up and teardown, per call: a run of 0-second calls (which only set up,
  pass one frame and tear down), less the steady cost of what they streamed;
  without one, the shortest run, less its steady cost.

Runs of two lengths are paired in order (the repeats run interleaved), so each
pair was measured under the same machine load; the figure is the pairs' median.
"""

from __future__ import annotations

import statistics
from typing import Any

Run = dict[str, Any]
WHOLE_KEYS = ("whole_cpu_s", "call_seconds", "calls_set_up")


def _measured(run: Run) -> bool:
    return all(isinstance(run.get(key), int | float) for key in WHOLE_KEYS)


def steady_from_lengths(short: list[Run], long: list[Run]) -> list[float]:
    """ms of CPU per call-second, one per pair of runs (short, long)."""
    out = []
    for a, b in zip(short, long, strict=False):
        if not (_measured(a) and _measured(b)):
            continue
        streamed = b["call_seconds"] - a["call_seconds"]
        if streamed > 0:
            out.append((b["whole_cpu_s"] - a["whole_cpu_s"]) * 1000 / streamed)
    return out


def setup_per_call(runs: list[Run], steady_ms: float) -> list[float]:
    """ms of CPU per call set up and torn down, one per run."""
    return [
        (run["whole_cpu_s"] * 1000 - steady_ms * run["call_seconds"])
        / run["calls_set_up"]
        for run in runs
        if _measured(run) and run["calls_set_up"] > 0
    ]


def whole_per_call_second(run: Run) -> float | None:
    if not _measured(run) or run["call_seconds"] <= 0:
        return None
    return float(run["whole_cpu_s"] * 1000 / run["call_seconds"])


def whole_per_call(run: Run) -> float | None:
    if not _measured(run) or run["calls_set_up"] <= 0:
        return None
    return float(run["whole_cpu_s"] * 1000 / run["calls_set_up"])


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _spread(values: list[float]) -> list[float]:
    return [min(values), max(values)] if values else []


def runs_by_length(scenario: dict[str, Any]) -> dict[float, list[Run]]:
    """The scenario's runs keyed by length (units of --seconds): 1 is ``runs``."""
    out = {1.0: list(scenario["runs"])}
    for length, runs in (scenario.get("lengths") or {}).items():
        out[float(length)] = list(runs)
    return out


def split(scenario: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Steady state per call-second, set-up per call, the whole run both ways."""
    by_length = runs_by_length(scenario)
    nonzero = sorted(length for length in by_length if length > 0)
    if len(nonzero) >= 2:
        short, long = nonzero[0], nonzero[-1]
        steady = steady_from_lengths(by_length[short], by_length[long])
        steady_how = f"{short * seconds:g} s vs {long * seconds:g} s calls"
    else:
        steady = [
            run["server_cpu_ms_per_call_s"]
            for run in by_length[1.0]
            if isinstance(run.get("server_cpu_ms_per_call_s"), int | float)
        ]
        steady_how = "the window"
    steady_ms = _median(steady)
    if 0.0 in by_length:
        setup_runs, setup_how = by_length[0.0], "0 s calls"
    else:
        setup_runs = by_length[nonzero[0]]
        setup_how = f"{nonzero[0] * seconds:g} s calls, less their steady cost"
    setup = [] if steady_ms is None else setup_per_call(setup_runs, steady_ms)
    main = by_length[1.0]
    every = [run for runs in by_length.values() for run in runs]
    per_call_s = [v for v in map(whole_per_call_second, main) if v is not None]
    per_call = [v for v in map(whole_per_call, main) if v is not None]
    return {
        "steady_ms_per_call_s": steady_ms,
        "steady_spread": _spread(steady),
        "steady_method": steady_how,
        "setup_ms_per_call": _median(setup),
        "setup_spread": _spread(setup),
        "setup_method": setup_how,
        "whole_ms_per_call_s": _median(per_call_s),
        "whole_ms_per_call": _median(per_call),
        "lengths_s": [length * seconds for length in sorted(by_length)],
        "frames_lost_all": sum(run.get("frames_lost", 0) for run in every),
        "calls_failed_all": sum(run.get("calls_failed", 0) for run in every),
        "runs_all": len(every),
    }


# (title, key in a result's figures): the figures given as ratios.
RATIO_FIGURES = (
    ("steady CPU/call-s", "steady_ms_per_call_s"),
    ("set-up CPU/call", "setup_ms_per_call"),
    ("whole-run CPU/call-s", "whole_ms_per_call_s"),
    ("p50", "rtt_p50_ms"),
    ("p99", "rtt_p99_ms"),
    ("RSS/call", "rss_per_call_bytes"),
)
REFERENCES = ("baseline", "floor")


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """A result's medians and its split, in one mapping."""
    return {**result.get("median", {}), **result.get("split", {})}


def ratio(ours: float | None, reference: float | None) -> float | None:
    """ours / reference; None when either is missing or the reference is not > 0."""
    if ours is None or reference is None or reference <= 0:
        return None
    return ours / reference


def ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of our rows against the baseline and the floor at the same calls."""
    references = {
        (r["subject"], r["calls"]): figures(r)
        for r in results
        if r.get("subject") in REFERENCES
    }
    out = []
    for result in results:
        if result.get("subject", "ours") != "ours":
            continue
        ours = figures(result)
        for subject in REFERENCES:
            reference = references.get((subject, result["calls"]))
            if reference is None:
                continue
            out.append(
                {
                    "server": result["server"],
                    "workers": result["workers"],
                    "recording": result.get("recording", ""),
                    "calls": result["calls"],
                    "against": subject,
                    "ratios": {
                        key: ratio(ours.get(key), reference.get(key))
                        for _, key in RATIO_FIGURES
                    },
                }
            )
    return out
