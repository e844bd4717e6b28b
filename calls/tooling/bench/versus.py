"""The report's parts about steady state, set-up and other bridges: two tables and
the targets of performance round three, as ratios to the baseline in the same run.

The steady and set-up figures come from ``split``; the ratios are ours over the
baseline's (``--baseline``) and the floor's at the same number of calls.
"""

from __future__ import annotations

from typing import Any

from calls.tooling.bench import split

MB = 1024 * 1024


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _range(values: list[float], digits: int = 1) -> str:
    if len(values) < 2 or values[0] == values[1]:
        return ""
    return f" ({values[0]:.{digits}f}-{values[1]:.{digits}f})"


def _row(cells: list[str], widths: list[int]) -> str:
    return " ".join(
        f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


SPLIT_TITLES = [
    "",
    "calls",
    "steady ms/call-s",
    "set-up ms/call",
    "whole ms/call-s",
    "whole ms/call",
    "RSS/call",
    "lost",
    "failed",
]
SPLIT_WIDTHS = [20, 5, 24, 24, 15, 13, 9, 6, 6]


def split_table(results: list[dict[str, Any]], label: Any) -> list[str]:
    """One row per scenario: steady state, set-up, the whole run; lost and failed
    over the runs of every length."""
    lines = [_row(SPLIT_TITLES, SPLIT_WIDTHS)]
    methods: set[tuple[str, str]] = set()
    for result in results:
        s, m = result["split"], result["median"]
        rss = m.get("rss_per_call_bytes")
        methods.add((s["steady_method"], s["setup_method"]))
        cells = [
            label(result),
            str(result["calls"]),
            _fmt(s["steady_ms_per_call_s"]) + _range(s["steady_spread"]),
            _fmt(s["setup_ms_per_call"], 1) + _range(s["setup_spread"]),
            _fmt(s["whole_ms_per_call_s"]),
            _fmt(s["whole_ms_per_call"], 1),
            _fmt(None if rss is None else rss / MB) + " MB",
            str(s["frames_lost_all"]),
            str(s["calls_failed_all"]),
        ]
        lines.append(_row(cells, SPLIT_WIDTHS))
    for steady, setup in sorted(methods):
        lines.append(f"  steady state from {steady}; set-up from {setup}")
    return lines


RATIO_WIDTHS = [30, 5] + [max(9, len(t)) for t, _ in split.RATIO_FIGURES]


def ratio_table(results: list[dict[str, Any]], label: Any) -> list[str]:
    """Our rows over the baseline's and the floor's (below 1: ours costs less)."""
    rows = split.ratios(results)
    if not rows:
        return []
    titles = ["ours / reference", "calls", *(t for t, _ in split.RATIO_FIGURES)]
    lines = [_row(titles, RATIO_WIDTHS)]
    for row in rows:
        name = label(row)
        against = "baseline" if row["against"] == "baseline" else "floor"
        cells = [f"{name} / {against}", str(row["calls"])]
        cells += [
            "-" if row["ratios"][key] is None else f"{row['ratios'][key]:.2f}x"
            for _, key in split.RATIO_FIGURES
        ]
        lines.append(_row(cells, RATIO_WIDTHS))
    return lines


# (what, calls, figure, most ratio, or else at most this absolute value)
# Performance round three's targets, as ratios to the baseline in the same run.
RATIO_TARGETS = (
    ("steady CPU per call-second", 50, "steady_ms_per_call_s", 0.75, None),
    ("set-up CPU per call", 50, "setup_ms_per_call", 2.0, None),
    ("p99 round trip", 50, "rtt_p99_ms", 1.0, 5.0),
    ("p99 round trip", 200, "rtt_p99_ms", 1.0, None),
)


def ratio_targets(results: list[dict[str, Any]], label: Any) -> list[dict[str, Any]]:
    """The targets against the baseline, for each of our rows of the first server;
    at 200 calls also no failed call and no lost frame."""
    baseline = {
        r["calls"]: split.figures(r) for r in results if r.get("subject") == "baseline"
    }
    ours = [r for r in results if r.get("subject", "ours") == "ours"]
    if not baseline or not ours:
        return []
    server = ours[0]["server"]
    checks = []
    for result in ours:
        if result["server"] != server or result.get("recording", "") == "on":
            continue
        calls, figures = result["calls"], split.figures(result)
        where = f"{label(result)} at {calls} calls"
        for what, at, key, most, absolute in RATIO_TARGETS:
            reference = baseline.get(calls, {}).get(key)
            value = split.ratio(figures.get(key), reference)
            if at != calls or value is None:
                continue
            met = value <= most or (absolute is not None and figures[key] <= absolute)
            limit = f"{most:g}x the baseline" + (
                f" or {absolute:g} ms" if absolute is not None else ""
            )
            checks.append(
                {
                    "target": f"{what}, {where}",
                    "value": value,
                    "limit": limit,
                    "met": met,
                }
            )
        if calls == 200:
            for key in ("calls_failed_all", "frames_lost_all"):
                value = figures.get(key)
                if value is not None:
                    what = key.removesuffix("_all").replace("_", " ")
                    checks.append(
                        {
                            "target": f"{what}, {where}",
                            "value": value,
                            "limit": "0",
                            "met": value == 0,
                        }
                    )
    return checks
