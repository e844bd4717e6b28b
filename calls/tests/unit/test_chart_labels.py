"""The dashboard's charts: counts on whole numbers, names that fit their column."""

from __future__ import annotations

import re

from calls.review import charts


def test_a_count_axis_has_only_whole_numbers() -> None:
    chart = charts.column_chart(
        chart_id="c",
        title="Calls",
        desc="d",
        columns=[charts.Column(label="1 Dec", value=1, part=1)],
        whole=True,
    )
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]*)</text>', chart)
    assert labels == ["0", "1", "2"]


def test_an_assistant_name_is_never_cut_at_the_charts_edge() -> None:
    chart = charts.bar_groups(
        chart_id="l",
        title="Latency",
        desc="d",
        groups=[("Demo assistant", [charts.Bar("p50", 900)])],
    )
    (shown,) = re.findall(r'text-anchor="end"[^>]*>([^<]*)</text>', chart)
    assert shown == "Demo assistant"
    x = float(re.findall(r'<text class="chart-label" x="([\d.]+)"', chart)[0])
    assert len(shown) * charts.FONT * 0.6 <= x  # fits left of its anchor
    long = charts.bar_groups(
        chart_id="l",
        title="Latency",
        desc="d",
        groups=[("After-hours emergency line", [charts.Bar("p50", 900)])],
    )
    assert "<title>After-hours emergency line</title>" in long
