"""Small charts as inline SVG, rendered on the server (no JavaScript, no CDN).

Every piece of text that reaches the markup goes through ``escape``; numbers are
formatted here, so a label can never inject markup. Each chart is ``role="img"`` with
a title and a description for screen readers; pages show the same figures in a table
next to it. Colours come from CSS classes (``calls.css``) with fills as fallbacks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from calls.review.stats import AssistantLatency, AssistantUsage, DayCount

# Narrow on purpose: scaled down to a phone's width (390 px less margins, about
# 0.77 of this), 15-unit text is still about 11.5 px: readable.
WIDTH = 480
FONT = 15


@dataclass(frozen=True)
class Column:
    """One column: ``value`` is the whole bar, ``part`` an inner highlighted share."""

    label: str
    value: float
    part: float = 0.0
    tooltip: str = ""


@dataclass(frozen=True)
class Bar:
    """One horizontal bar of a group."""

    series: str
    value: float | None
    css: str = "bar-a"


def nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^k at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, desc: str, height: int, body: str) -> SafeString:
    cid = escape(chart_id)
    # Safe: every string interpolated here was escaped or formatted by us.
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    columns: Sequence[Column],
    height: int = 220,
    whole: bool = False,
) -> SafeString:
    """Vertical bars with an optional inner share (e.g. calls and answered calls).

    ``whole``: the values are counts, so every axis label is a whole number."""
    left, right, top, bottom = 44, 8, 12, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    top_value = nice_max(max((c.value for c in columns), default=0))
    if whole and top_value % 2:
        top_value += 1  # the middle line at half of it: 0.5 or 2.5 calls otherwise
    parts = [_y_axis(left, top, plot_w, plot_h, top_value)]
    slot = plot_w / max(len(columns), 1)
    every = max(1, math.ceil(len(columns) / 7))  # at most ~7 x labels
    for index, column in enumerate(columns):
        x = left + index * slot + slot * 0.1
        parts.append(_column(column, x, slot * 0.8, top, plot_h, top_value))
        if index % every == 0:
            cx = _num(left + index * slot + slot / 2)
            parts.append(
                f'<text class="chart-label" x="{cx}" y="{height - bottom + 16}" '
                f'text-anchor="middle" font-size="{FONT}">{escape(column.label)}</text>'
            )
    return _frame(chart_id, title, desc, height, "".join(parts))


def _column(
    column: Column, x: float, width: float, top: int, plot_h: int, top_value: float
) -> str:
    def rect(value: float, css: str, fill: str) -> str:
        h = plot_h * value / top_value
        return (
            f'<rect class="{css}" fill="{fill}" x="{_num(x)}" '
            f'y="{_num(top + plot_h - h)}" width="{_num(width)}" height="{_num(h)}"/>'
        )

    tooltip = escape(column.tooltip or f"{column.label}: {_num(column.value)}")
    return (
        f"<g><title>{tooltip}</title>"
        f"{rect(column.value, 'bar-a', '#9db8d9')}"
        f"{rect(min(column.part, column.value), 'bar-b', '#1f4e8c')}</g>"
    )


def _y_axis(left: int, top: int, plot_w: int, plot_h: int, top_value: float) -> str:
    lines = []
    for fraction in (0, 0.5, 1):
        y = _num(top + plot_h - plot_h * fraction)
        lines.append(
            f'<line class="chart-grid" x1="{left}" x2="{left + plot_w}" y1="{y}" '
            f'y2="{y}" stroke="#d0d4da"/>'
            f'<text class="chart-label" x="{left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="{FONT}">'
            f"{_num(top_value * fraction)}</text>"
        )
    return "".join(lines)


def bar_groups(
    *,
    chart_id: str,
    title: str,
    desc: str,
    groups: Sequence[tuple[str, Sequence[Bar]]],
    fmt: Callable[[float], str] = _num,
) -> SafeString:
    """Horizontal bars, one group per label (e.g. p50 and p95 per assistant)."""
    label_w, value_w, bar_h, gap = 160, 110, 16, 10
    plot_w = WIDTH - label_w - value_w
    values = [b.value for _, bars in groups for b in bars if b.value is not None]
    top_value = nice_max(max(values, default=0))
    parts, y = [], 6
    for label, bars in groups:
        group_h = len(bars) * (bar_h + 2)
        # Anchored at its end, a label wider than its column is cut at the
        # SVG's left edge: clipped to what fits, the whole name in its title.
        parts.append(
            f"<g><title>{escape(label)}</title>"
            f'<text class="chart-label" x="{label_w - 8}" y="{_num(y + group_h / 2)}" '
            f'text-anchor="end" dominant-baseline="middle" font-size="{FONT}">'
            f"{escape(_clip(label, fitting_chars(label_w - 8)))}</text></g>"
        )
        for bar in bars:
            parts.append(_hbar(bar, label_w, y, bar_h, plot_w, top_value, fmt))
            y += bar_h + 2
        y += gap
    return _frame(chart_id, title, desc, max(y, 30), "".join(parts))


def _hbar(
    bar: Bar,
    x: int,
    y: float,
    bar_h: int,
    plot_w: int,
    top_value: float,
    fmt: Callable[[float], str],
) -> str:
    value = bar.value or 0.0
    width = plot_w * value / top_value
    shown = "n/a" if bar.value is None else fmt(value)
    text = escape(f"{bar.series} {shown}")
    return (
        f"<g><title>{text}</title>"
        f'<rect class="{escape(bar.css)}" fill="#1f4e8c" x="{x}" y="{_num(y)}" '
        f'width="{_num(width)}" height="{bar_h}"/>'
        f'<text class="chart-label" x="{_num(x + width + 4)}" '
        f'y="{_num(y + bar_h / 2)}" '
        f'dominant-baseline="middle" font-size="{FONT - 2}">{text}</text></g>'
    )


def fitting_chars(width: float, font: int = FONT) -> int:
    """How many characters of ``font`` px fit in ``width`` px (an average
    character of a sans-serif face is about 0.6 em wide)."""
    return max(1, int(width / (font * 0.6)))


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def dashboard_charts(
    *,
    days: Sequence[DayCount],
    latency: Sequence[AssistantLatency],
    usage: Sequence[AssistantUsage],
) -> dict[str, SafeString]:
    """The dashboard's three charts from ``calls.review.stats`` results."""
    calls_chart = column_chart(
        chart_id="chart-calls",
        title="Calls per day",
        desc="Bars: all calls per day; dark part: answered calls.",
        whole=True,
        columns=[
            Column(
                # Days read "Tue 1 Dec" on the dashboard; "1 Dec" fits a bar.
                label=f"{day.day.day} {day.day:%b}",
                value=day.total,
                part=day.answered,
                tooltip=f"{day.day:%a} {day.day.day} {day.day:%b}: {day.total} calls, "
                f"{day.answered} answered",
            )
            for day in days
        ],
    )
    latency_chart = bar_groups(
        chart_id="chart-latency",
        title="Latency per assistant: caller stopped → heard",
        desc="p50 and p95 of the time from the end of the caller's speech to "
        "Twilio confirming the assistant's first audio played, in milliseconds.",
        groups=[
            (row.name, [Bar("p50", row.p50_ms, "bar-b"), Bar("p95", row.p95_ms)])
            for row in latency
        ],
        fmt=lambda ms: f"{ms:,.0f} ms",
    )
    cost_chart = bar_groups(
        chart_id="chart-cost",
        title="Estimated cost per assistant",
        desc="Estimated cost in US dollars over the period, per assistant.",
        groups=[
            (row.name, [Bar("cost", row.cost.total_usd, "bar-b")]) for row in usage
        ],
        fmt=lambda usd: f"${usd:,.2f}" if usd >= 1 else f"${usd:.4f}",
    )
    return {"calls": calls_chart, "latency": latency_chart, "cost": cost_chart}
