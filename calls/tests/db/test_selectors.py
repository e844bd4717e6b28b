"""The read queries behind the pages (calls.review.selectors and calls.review.stats)
and their pure helpers (masking, percentiles, display)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from calls import pricing
from calls.models import CallDirection
from calls.privacy import masking
from calls.review import call_rows, charts, display, percentiles, selectors, stats
from calls.runtime.bus.live_events import call_payload
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call

UTC = dt.UTC
PRICES = pricing.Prices(input_audio=32.0, output_audio=64.0)


def sids(queryset: Any) -> list[str]:
    return [call.call_sid for call in queryset]


def test_it_computes_percentiles_like_numpy() -> None:
    assert percentiles.percentile([], 50) is None
    assert percentiles.percentile([5], 95) == 5
    assert percentiles.percentile([1, 2, 3, 4], 50) == 2.5
    assert percentiles.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_it_masks_the_other_party_only() -> None:
    inbound = masking.shown_numbers(
        direction="inbound",
        from_number="+15557654321",
        to_number="+15550000001",
        show=False,
    )
    outbound = masking.shown_numbers(
        direction="outbound-api",
        from_number="+15550000001",
        to_number="+15557654321",
        show=False,
    )
    assert inbound == ("+1555•••4321", "+15550000001")
    assert outbound == ("+15550000001", "+1555•••4321")


def test_it_spells_the_inbound_direction_as_calls_models_does() -> None:
    # masking cannot import calls.models (which imports it), so it repeats the value.
    assert masking.INBOUND == CallDirection.INBOUND


def test_it_shows_numbers_to_permitted_users(
    db: Any, django_user_model: Any, settings: Any
) -> None:
    plain = django_user_model.objects.create_user("plain", is_staff=True)
    allowed = django_user_model.objects.create_user("allowed", is_staff=True)
    allowed.user_permissions.add(Permission.objects.get(codename="view_caller_number"))
    boss = django_user_model.objects.create_superuser("boss", password="x")
    assert not masking.can_see_numbers(plain)
    assert masking.can_see_numbers(django_user_model.objects.get(pk=allowed.pk))
    assert masking.can_see_numbers(boss)
    settings.CALLS_MASK_NUMBERS = False
    assert masking.can_see_numbers(plain)


def test_it_filters_the_log(assistant: Any, other_assistant: Any) -> None:
    tz = zoneinfo.ZoneInfo("America/New_York")
    a = make_call(
        assistant=assistant,
        from_number="+15551110000",
        created_at=dt.datetime(2026, 3, 10, 3, 0, tzinfo=UTC),
    )  # 9th in NY
    b = make_call(
        assistant=other_assistant,
        status="failed",
        direction="outbound-api",
        created_at=dt.datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
    )
    live, done = selectors.call_log(selectors.CallFilters(), tz)
    assert sids(done) == [b.call_sid, a.call_sid]
    assert sids(live) == []

    def only(**kwargs: Any) -> list[str]:
        return sids(selectors.call_log(selectors.CallFilters(**kwargs), tz)[1])

    assert only(assistant_id=assistant.pk) == [a.call_sid]
    assert only(number="555 111") == [a.call_sid]
    assert only(status="failed") == [b.call_sid]
    assert only(direction="outbound-api") == [b.call_sid]
    assert only(date_to=dt.date(2026, 3, 9)) == [a.call_sid]
    assert only(date_from=dt.date(2026, 3, 10)) == [b.call_sid]


def test_it_searches_without_repeating_calls(assistant: Any) -> None:
    said_twice = make_call(
        assistant=assistant,
        entries=[
            {"role": "caller", "text": "refund"},
            {"role": "caller", "text": "refund!"},
        ],
    )
    make_call(assistant=assistant, entries=[{"role": "caller", "text": "hello"}])
    found = selectors.call_log(selectors.CallFilters(q="REFUND"), dt.UTC)[1]
    assert sids(found) == [said_twice.call_sid]
    assert found.count() == 1
    by_sid = selectors.call_log(selectors.CallFilters(q=said_twice.call_sid[-6:]), UTC)
    assert sids(by_sid[1]) == [said_twice.call_sid]


def test_it_lists_live_calls_apart(assistant: Any) -> None:
    live = make_call(assistant=assistant, live=True)
    done = make_call(assistant=assistant)
    live_qs, done_qs = selectors.call_log(selectors.CallFilters(), UTC)
    assert sids(live_qs) == [live.call_sid]
    assert sids(done_qs) == [done.call_sid]
    assert [p["call_sid"] for p in selectors.live_call_payloads()] == [live.call_sid]


def test_it_decorates_a_page_in_one_query(
    assistant: Any, django_assert_num_queries: Any
) -> None:
    for _ in range(3):
        make_call(assistant=assistant, entries=CONVERSATION, **USAGE)
    calls = list(selectors.call_log(selectors.CallFilters(), UTC)[1])
    with django_assert_num_queries(1):
        rows = call_rows.call_rows(
            calls, prices=PRICES, show_numbers=False, now=timezone.now()
        )
    assert [row.turns for row in rows] == [6, 6, 6]  # the system event is no turn
    assert {row.p50_reply_ms for row in rows} == {960}  # caller stopped -> heard
    assert rows[0].shown_from == "+1555•••4321"
    assert rows[0].assistant_name == "Front desk"
    assert rows[0].cost.total_usd == pytest.approx(
        (10_000 * 32 + 3_500 * 64) / 1_000_000
    )


def test_it_gives_a_call_with_its_transcript_for_live_viewers(assistant: Any) -> None:
    call = make_call(assistant=assistant, live=True, entries=CONVERSATION[:2])
    found = selectors.call_transcript_payload(call.call_sid)
    assert found is not None
    assert found["call"] == call_payload(call)
    assert [e["seq"] for e in found["entries"]] == [0, 1]
    assert selectors.call_transcript_payload("CAnope") is None


def test_it_summarises_latency(assistant: Any) -> None:
    call = make_call(assistant=assistant, entries=CONVERSATION)
    summary = display.latency_summary(call.transcript_entries.all())
    assert summary["reply_p50"] == 770
    assert summary["heard_p95"] == pytest.approx(1086)  # 820 + 0.95 * (1100 - 820)
    assert summary["reply_count"] == 2


def test_it_counts_calls_per_day_in_the_viewers_zone(
    assistant: Any, other_assistant: Any
) -> None:
    tz = zoneinfo.ZoneInfo("Asia/Tokyo")
    # 20:00 UTC on the 1st is 05:00 on the 2nd in Tokyo.
    make_call(
        assistant=assistant,
        created_at=dt.datetime(2026, 5, 1, 20, tzinfo=UTC),
        entries=CONVERSATION,
        **USAGE,
    )
    make_call(
        assistant=other_assistant,
        status="no-answer",
        started_at=None,
        created_at=dt.datetime(2026, 5, 2, 1, tzinfo=UTC),
    )
    period = stats.period_for(today=dt.date(2026, 5, 3), tz=tz, days=7)
    days = stats.calls_per_day(period)
    assert len(days) == 7
    assert [(d.day.day, d.total, d.answered) for d in days if d.total] == [(2, 2, 1)]
    assert stats.answer_rate(days) == 0.5
    latency = stats.latency_by_assistant(period)
    assert [(row.name, row.p50_ms, row.turns) for row in latency] == [
        ("Front desk", 960, 2)  # heard: the headline
    ]
    usage = {row.name: row for row in stats.usage_by_assistant(period, PRICES)}
    assert usage["Front desk"].input_tokens == 12_000
    assert usage["After hours"].calls == 1
    assert usage["After hours"].cost.total_usd == 0


def test_it_makes_periods_from_dates() -> None:
    period = stats.period_for(
        today=dt.date(2026, 5, 3),
        tz=UTC,
        date_from=dt.date(2026, 4, 1),
        date_to=dt.date(2026, 4, 3),
    )
    assert len(period.days) == 3
    assert period.end == dt.datetime(2026, 4, 4, tzinfo=UTC)
    decade = stats.period_for(
        today=dt.date(2026, 5, 3), tz=UTC, date_from=dt.date(2016, 1, 1)
    )
    assert len(decade.days) == stats.MAX_DAYS
    assert stats.period_for(today=dt.date(2026, 5, 3), tz=UTC, days=30).first_day == (
        dt.date(2026, 4, 4)
    )


def test_it_escapes_chart_labels() -> None:
    svg = charts.bar_groups(
        chart_id="c",
        title="<b>t</b>",
        desc="d",
        groups=[("<script>alert(1)</script>", [charts.Bar("p50", 5.0)])],
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "&lt;b&gt;t&lt;/b&gt;" in svg
    column = charts.column_chart(
        chart_id="d",
        title="Calls",
        desc="d",
        columns=[charts.Column("1 May", 4, 2), charts.Column("2 May", 0)],
    )
    assert column.count("<rect") == 4
    assert 'role="img"' in column


def test_it_rounds_chart_scales() -> None:
    assert [charts.nice_max(v) for v in (0, 3, 7, 12, 480)] == [1, 5, 10, 20, 500]
