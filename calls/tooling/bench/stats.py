"""Per-run figures from the load generator's calls: frames, losses, round trips.

Percentiles are nearest-rank over every round trip of every call in the window
(not a mean of per-call percentiles), so one slow call shows up in p99.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

MAX_ERRORS_KEPT = 10


class CallResult(Protocol):
    sent: int
    received: int
    foreign: int
    rtts_ms: list[float]
    first_rtt_ms: float | None
    max_tick_lag_s: float
    late_ticks: int
    marks_echoed: int
    clears: int
    errors: list[str]
    server_closed: bool


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def rtt_figures(values: list[float], prefix: str = "rtt") -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        f"{prefix}_p50_ms": percentile(ordered, 0.50),
        f"{prefix}_p95_ms": percentile(ordered, 0.95),
        f"{prefix}_p99_ms": percentile(ordered, 0.99),
        f"{prefix}_max_ms": ordered[-1] if ordered else None,
    }


def summarize(calls: Sequence[CallResult]) -> dict[str, Any]:
    rtts = [rtt for call in calls for rtt in call.rtts_ms]
    firsts = sorted(c.first_rtt_ms for c in calls if c.first_rtt_ms is not None)
    errors = [f"call {i}: {e}" for i, c in enumerate(calls) for e in c.errors]
    sent = sum(c.sent for c in calls)
    back = sum(c.received for c in calls)
    return {
        "frames_sent": sent,
        "frames_back": back,
        "frames_lost": sent - back,
        "frames_timed": len(rtts),
        **rtt_figures(rtts),
        "start_rtt_p50_ms": percentile(firsts, 0.5),
        "start_rtt_max_ms": firsts[-1] if firsts else None,
        "foreign_frames": sum(c.foreign for c in calls),
        "marks_echoed": sum(c.marks_echoed for c in calls),
        "clears": sum(c.clears for c in calls),
        "calls_failed": sum(1 for c in calls if c.errors or c.server_closed),
        "server_hangups": sum(1 for c in calls if c.server_closed),
        "loadgen_max_tick_lag_ms": max((c.max_tick_lag_s for c in calls), default=0)
        * 1000,
        "loadgen_late_ticks": sum(c.late_ticks for c in calls),
        "errors": errors[:MAX_ERRORS_KEPT],
        "error_count": len(errors),
    }
