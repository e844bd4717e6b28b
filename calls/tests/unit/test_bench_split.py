"""The benchmark's steady-state and set-up split, its ratios to the baseline and
the floor, and the order in which it runs ours beside them."""

from __future__ import annotations

from typing import Any

import pytest

from calls.tooling.bench import report, split, versus


def run(
    cpu_s: float, call_seconds: float, calls: int = 10, **more: Any
) -> dict[str, Any]:
    return {
        "whole_cpu_s": cpu_s,
        "call_seconds": call_seconds,
        "calls_set_up": calls,
        "other_cores": {},
        **more,
    }


def costs(calls: int, call_seconds: float, setup_ms: float, steady_ms: float) -> float:
    """The whole-run CPU seconds of a bridge with these costs."""
    return (calls * setup_ms + call_seconds * steady_ms) / 1000


def test_it_tells_steady_state_from_set_up_with_runs_of_three_lengths() -> None:
    # A bridge costing 20 ms per call set-up and 4 ms per call-second; 10 calls.
    def at(call_seconds: float) -> dict[str, Any]:
        return run(costs(10, call_seconds, 20, 4), call_seconds)

    scenario = {"runs": [at(100)], "lengths": {"0": [at(0.5)], "3": [at(300)]}}
    parts = split.split(scenario, seconds=10)
    assert parts["steady_ms_per_call_s"] == pytest.approx(4)
    assert parts["setup_ms_per_call"] == pytest.approx(20)
    assert parts["steady_method"] == "10 s vs 30 s calls"
    assert parts["setup_method"] == "0 s calls"
    # The whole 10 s run: (200 + 400) ms over 100 call-seconds and over 10 calls.
    assert parts["whole_ms_per_call_s"] == pytest.approx(6)
    assert parts["whole_ms_per_call"] == pytest.approx(60)
    assert parts["lengths_s"] == [0, 10, 30]


def test_it_pairs_the_interleaved_runs_and_takes_the_median() -> None:
    short = [run(1.0, 100), run(2.0, 100), run(1.0, 100)]
    long = [run(2.0, 300), run(2.5, 300), run(3.0, 300)]
    # Pairs: 1000/200 = 5, 500/200 = 2.5, 2000/200 = 10 ms per call-second.
    assert split.steady_from_lengths(short, long) == [5.0, 2.5, 10.0]
    parts = split.split({"runs": short, "lengths": {"3": long}}, seconds=10)
    assert parts["steady_ms_per_call_s"] == 5.0
    assert parts["steady_spread"] == [2.5, 10.0]
    # No 0 s calls: set-up from the shortest runs less their steady cost.
    assert parts["setup_method"] == "10 s calls, less their steady cost"
    assert parts["setup_ms_per_call"] == pytest.approx((1000 - 500) / 10)


def test_it_falls_back_to_the_window_with_a_single_length() -> None:
    runs = [run(1.0, 100, server_cpu_ms_per_call_s=v) for v in (4.0, 6.0, 5.0)]
    parts = split.split({"runs": runs}, seconds=8)
    assert (parts["steady_ms_per_call_s"], parts["steady_method"]) == (
        5.0,
        "the window",
    )
    assert parts["setup_ms_per_call"] == pytest.approx((1000 - 500) / 10)


def test_it_leaves_out_runs_without_whole_run_figures() -> None:
    # A load generator that failed gives no whole-run figures: nothing is invented.
    failed = {"calls": 10, "calls_failed": 10, "errors": ["x"], "other_cores": {}}
    parts = split.split({"runs": [failed], "lengths": {"0": [failed]}}, seconds=8)
    assert parts["steady_ms_per_call_s"] is None
    assert parts["setup_ms_per_call"] is None
    assert parts["whole_ms_per_call_s"] is None
    assert parts["calls_failed_all"] == 20
    assert split.steady_from_lengths([run(1, 100)], [run(2, 100)]) == []


def result(subject: str, calls: int, **figures: float) -> dict[str, Any]:
    return {
        "subject": subject,
        "server": "uvicorn" if subject != "baseline" else "",
        "workers": 1,
        "calls": calls,
        "recording": "",
        "median": {k: v for k, v in figures.items() if k.startswith("rtt")},
        "split": {
            "calls_failed_all": 0,
            "frames_lost_all": 0,
            **{k: v for k, v in figures.items() if not k.startswith("rtt")},
        },
    }


def test_it_gives_our_figures_as_ratios_to_the_baseline_and_the_floor() -> None:
    results = [
        result("ours", 50, steady_ms_per_call_s=6.0, setup_ms_per_call=30.0),
        result("baseline", 50, steady_ms_per_call_s=8.0, setup_ms_per_call=10.0),
        result("floor", 50, steady_ms_per_call_s=3.0, setup_ms_per_call=0.0),
        result("baseline", 200, steady_ms_per_call_s=1.0),  # no ours at 200
    ]
    to_baseline, to_floor = split.ratios(results)
    assert (to_baseline["against"], to_baseline["calls"]) == ("baseline", 50)
    assert to_baseline["ratios"]["steady_ms_per_call_s"] == pytest.approx(0.75)
    assert to_baseline["ratios"]["setup_ms_per_call"] == pytest.approx(3.0)
    assert to_floor["ratios"]["steady_ms_per_call_s"] == pytest.approx(2.0)
    # A reference of 0 (or missing) gives no ratio rather than infinity.
    assert to_floor["ratios"]["setup_ms_per_call"] is None
    assert to_floor["ratios"]["rtt_p99_ms"] is None
    lines = versus.ratio_table(results, report.label)
    assert any("uvicorn x1 / baseline" in line and "0.75x" in line for line in lines)


def test_it_checks_round_threes_targets_against_the_baseline() -> None:
    results = [
        result(
            "ours", 50, steady_ms_per_call_s=6.0, setup_ms_per_call=30.0, rtt_p99_ms=4.0
        ),
        result(
            "baseline",
            50,
            steady_ms_per_call_s=8.0,
            setup_ms_per_call=10.0,
            rtt_p99_ms=2.0,
        ),
    ]
    checks = {c["target"]: c for c in versus.ratio_targets(results, report.label)}
    steady = checks["steady CPU per call-second, uvicorn x1 at 50 calls"]
    assert (steady["value"], steady["met"]) == (pytest.approx(0.75), True)
    setup = checks["set-up CPU per call, uvicorn x1 at 50 calls"]
    assert (setup["value"], setup["met"]) == (pytest.approx(3.0), False)
    # Twice the baseline's p99, but under 5 ms: met.
    p99 = checks["p99 round trip, uvicorn x1 at 50 calls"]
    assert (p99["value"], p99["met"]) == (pytest.approx(2.0), True)
    assert versus.ratio_targets(results[:1], report.label) == []


def test_it_runs_ours_the_baseline_and_the_floor_in_turn_at_every_length() -> None:
    from calls.tooling.bench.__main__ import group_lengths, parse_args, plan
    from calls.tooling.bench.runner import run_order

    ours = ["--server", "uvicorn", "--calls", "10,50", "--compare-workers", "0"]
    options = parse_args([*ours, "--baseline", "node index.js", "--repeats", "2"])
    assert options.interleave  # a baseline always runs interleaved
    scenarios = plan(options, [])
    assert [(s.label, s.calls, s.length) for s in scenarios] == [
        ("uvicorn x1", 10, 1.0),
        ("baseline", 10, 1.0),
        ("floor uvicorn", 10, 1.0),
        ("uvicorn x1", 50, 1.0),
        ("baseline", 50, 1.0),
        ("floor uvicorn", 50, 1.0),
        # The other lengths at --split-calls (by default 50) only.
        ("uvicorn x1", 50, 0.0),
        ("baseline", 50, 0.0),
        ("floor uvicorn", 50, 0.0),
        ("uvicorn x1", 50, 3.0),
        ("baseline", 50, 3.0),
        ("floor uvicorn", 50, 3.0),
    ]
    order = run_order(scenarios, 2, options.interleave)
    assert order[:2] == scenarios[:2] and order[12:14] == scenarios[:2]
    from dataclasses import asdict

    runs = [{**asdict(s), "runs": [{"n": i}]} for i, s in enumerate(scenarios)]
    grouped = group_lengths(runs)
    assert len(grouped) == 6
    assert grouped[3]["lengths"] == {"0": [{"n": 6}], "3": [{"n": 9}]}
    assert grouped[0]["lengths"] == {}


def test_it_leaves_the_split_and_the_floor_out_of_the_smoke_run() -> None:
    from calls.tooling.bench.__main__ import parse_args, plan

    (only,) = plan(parse_args(["--quick"]), [])
    assert (only.subject, only.calls, only.length) == ("ours", 2, 1.0)
    off = parse_args(["--calls", "50", "--floor", "off", "--lengths", "1"])
    assert {s.subject for s in plan(off, [])} == {"ours"}
    with pytest.raises(SystemExit):
        parse_args(["--lengths", "0,3"])
