"""Redaction stays linear on hostile input (a tool answer is up to 16 KB).

Each input below was quadratic once and froze the event loop for seconds. The
check is a ratio measured in the same run, so it holds on any machine: four
times the text may take about four times as long, never sixteen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from calls.privacy.redaction import PLACEHOLDERS, redact

KINDS = list(PLACEHOLDERS)
SIZE = 16_000

HOSTILE: dict[str, Callable[[int], str]] = {
    "dotted digits": lambda n: "1." * (n // 2),
    "spaced digits": lambda n: " ".join("5" * (n // 2)),
    "dotted letters before an at sign": lambda n: "a." * (n // 2) + "@b",
    "spoken digits": lambda n: "one " * (n // 4),
    "dashed spoken digits": lambda n: "one-" * (n // 4),
    "spoken dots": lambda n: "a dot " * (n // 6) + "at b dot com",
    "dotted quads": lambda n: "1.1.1." * (n // 6),
}


def fastest(text: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        redact(text, KINDS)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_redaction_time_grows_linearly_with_hostile_input(name: str) -> None:
    make = HOSTILE[name]
    small, large = fastest(make(SIZE // 4)), fastest(make(SIZE))
    # Linear: ~4x. Quadratic: ~16x. The floor absorbs timer noise on tiny runs.
    assert large <= 8 * max(small, 0.002), (name, small, large)
    # And bounded: a tool answer's worth of text is far below a noticeable stall
    # of the event loop (these inputs took seconds when quadratic).
    assert large < 0.5, (name, large)


def test_items_inside_hostile_input_are_still_found() -> None:
    text = (
        "1." * 500 + " card 4111 1111 1111 1111, mail jane@example.com " + "one " * 500
    )
    redacted = redact(text, KINDS)
    assert "[card number]" in redacted
    assert "[email]" in redacted
    assert "4111" not in redacted
