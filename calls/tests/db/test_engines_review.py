"""Which engine ran a call, on the pages, the exports and the dashboard; each call
priced as its engine bills (GPT-Live per minute of session, in ``session_seconds``).

Database tests: calls are seeded with different engines' persona snapshots.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from assistants.models import Assistant
from calls import pricing
from calls.models import Call
from calls.review import exports, stats
from calls.review.percentiles import percentile
from calls.services.usage import call_add_usage
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call
from calls.tooling.management.commands.simulate_call import print_call

LIVE_USAGE: dict[str, Any] = {
    "session_seconds": 120,
    "input_tokens": 1_000,
    "input_text_tokens": 1_000,
    "output_tokens": 100,
    "output_text_tokens": 100,
}
# 2 min at $0.05/min, plus 1000 text tokens in at $4/M and 100 out at $16/M.
LIVE_COST = 2 * 0.05 + 1_000 * 4.0 / 1e6 + 100 * 16.0 / 1e6
# ``USAGE`` on a Realtime call (``test_exports``).
REALTIME_COST = 0.5564
LIVE_TURNS = (
    {"role": "assistant", "text": "Hello, ACME Dental.", "heard_latency_ms": 700},
    {"role": "caller", "text": "Friday, please."},
    {"role": "assistant", "text": "Friday it is.", "heard_latency_ms": 900},
)


@pytest.fixture(autouse=True)
def prices(settings: Any) -> None:
    settings.PRICE_LIVE_PER_MINUTE = 0.05
    settings.PRICE_INPUT_TEXT_PER_M = 4.0
    settings.PRICE_OUTPUT_TEXT_PER_M = 16.0


def snapshot(assistant: Assistant, engine: str | None) -> dict[str, Any]:
    data = assistant.snapshot()
    if engine is None:  # a snapshot from before assistants chose an engine
        data.pop("engine", None)
    else:
        data["engine"] = engine
    return data


def live_call(assistant: Any, **fields: Any) -> Call:
    values = {
        "assistant_snapshot": snapshot(assistant, "openai-live"),
        "entries": LIVE_TURNS,
        "duration_seconds": 120,
        **LIVE_USAGE,
        **fields,
    }
    return make_call(assistant=assistant, **values)


def realtime_call(assistant: Any, **fields: Any) -> Call:
    values = {
        "assistant_snapshot": snapshot(assistant, "openai-realtime"),
        "entries": CONVERSATION,
        **USAGE,
        **fields,
    }
    return make_call(assistant=assistant, **values)


def test_it_sums_session_seconds_like_the_token_counters(assistant: Any) -> None:
    call = live_call(assistant, session_seconds=0)
    call_add_usage(call_sid=call.call_sid, usage={"session_seconds": 61})
    call_add_usage(
        call_sid=call.call_sid, usage={"session_seconds": 14, "input_tokens": 5}
    )
    call.refresh_from_db()
    assert (call.session_seconds, call.input_tokens) == (75, 1_005)
    assert call.input_audio_tokens == 0


def test_it_shows_the_engine_and_a_per_minute_price_on_the_call_page(
    staff_client: Client, assistant: Any
) -> None:
    call = live_call(assistant)
    html = staff_client.get(call.get_absolute_url()).content.decode()
    assert '<dd id="call-engine">OpenAI GPT-Live</dd>' in html
    assert f'id="call-cost">{pricing.format_usd(LIVE_COST)}<' in html
    assert "Session time (s)" in html and "at $0.05/min" in html
    assert "bills by the second: 120 s of session at PRICE_LIVE_PER_MINUTE" in html
    other = realtime_call(assistant)
    html = staff_client.get(other.get_absolute_url()).content.decode()
    assert '<dd id="call-engine">OpenAI Realtime (GA)</dd>' in html
    assert f'id="call-cost">{pricing.format_usd(REALTIME_COST)}<' in html
    assert "/min" not in html


def test_it_labels_each_call_in_the_list_with_its_engine(
    staff_client: Client, assistant: Any
) -> None:
    live_call(assistant)
    realtime_call(assistant)
    response = staff_client.get("/calls/")
    shown = {
        c.call_sid: (c.engine_label, c.cost_label) for c in response.context["calls"]
    }
    assert sorted(shown.values()) == sorted(
        [
            ("OpenAI GPT-Live", pricing.format_usd(LIVE_COST)),
            ("OpenAI Realtime (GA)", pricing.format_usd(REALTIME_COST)),
        ]
    )
    html = response.content.decode()
    assert html.count('class="engine-tag"') == 2
    assert ">OpenAI GPT-Live</span>" in html


def test_it_filters_the_call_list_by_engine(
    staff_client: Client, assistant: Any
) -> None:
    live = live_call(assistant)
    realtime = realtime_call(assistant)
    old = make_call(assistant=assistant, assistant_snapshot=snapshot(assistant, None))
    nobody = make_call(assistant=None, status="no-answer", started_at=None)

    def listed(query: str) -> set[str]:
        response = staff_client.get("/calls/" + query)
        assert response.status_code == 200
        return {c.call_sid for c in response.context["calls"]}

    assert listed("?engine=openai-live") == {live.call_sid}
    # Snapshots without an engine ran on the default; no snapshot, on none.
    assert listed("?engine=openai-realtime") == {realtime.call_sid, old.call_sid}
    assert listed("?engine=azure-realtime") == set()
    everything = {live.call_sid, realtime.call_sid, old.call_sid, nobody.call_sid}
    assert listed("?engine=nope") == everything
    html = staff_client.get("/calls/?engine=nope").content.decode()
    assert "Some filters were ignored" in html
    assert '<option value="openai-live">OpenAI GPT-Live</option>' in html


def test_it_exports_the_engine_and_prices_gpt_live_per_minute(
    assistant: Any,
) -> None:
    call = live_call(assistant)
    prices = pricing.Prices.from_settings(settings)
    queryset = exports.export_queryset(call_sid=call.call_sid)
    [data] = list(exports.iter_call_dicts(queryset, prices=prices))
    assert data["engine"] == "openai-live"
    assert data["usage"]["session_seconds"] == 120
    assert data["estimated_cost_usd"] == pytest.approx(LIVE_COST)
    assert data["cost_breakdown"]["session"] == {
        "seconds": 120,
        "price_per_minute": 0.05,
        "usd": 0.1,
    }
    assert "input_audio" not in data["cost_breakdown"]
    rows = list(
        csv.DictReader(
            io.StringIO(
                "".join(
                    exports.iter_csv(exports.iter_call_dicts(queryset, prices=prices))
                )
            )
        )
    )
    assert {(r["engine"], r["session_seconds"]) for r in rows} == {
        ("openai-live", "120")
    }
    assert float(rows[0]["estimated_cost_usd"]) == pytest.approx(LIVE_COST)


def period() -> stats.Period:
    return stats.period_for(today=timezone.localdate(), tz=dt.UTC, days=7)


def test_it_compares_the_engines_of_the_period(assistant: Any) -> None:
    live_call(assistant)
    live_call(assistant, status="no-answer", started_at=None, entries=(), end_reason="")
    realtime_call(assistant)
    # No engine key: the default engine's (Realtime); it adds a call, no usage.
    make_call(
        assistant=assistant,
        assistant_snapshot=snapshot(assistant, None),
        status="no-answer",
        started_at=None,
        duration_seconds=None,
        end_reason="",
    )
    # No assistant took it: no engine ran it, so no row counts it.
    make_call(assistant=None, status="no-answer", started_at=None)
    rows = stats.engines_compared(period(), pricing.Prices.from_settings(settings))
    assert [(r.engine, r.label) for r in rows] == [
        ("openai-realtime", "OpenAI Realtime (GA)"),
        ("openai-live", "OpenAI GPT-Live"),
    ]
    realtime, live = rows
    assert (realtime.calls, realtime.answered, realtime.answer_rate) == (2, 1, 0.5)
    assert (live.calls, live.answered, live.answer_rate) == (2, 1, 0.5)
    # The headline latency, caller stopped -> heard, over the engine's turns.
    assert (live.p50_ms, live.p95_ms, live.turns) == (
        800,
        percentile([700, 900], 95),
        2,
    )
    assert realtime.p50_ms == 960 and realtime.turns == 2
    assert realtime.p95_ms == percentile([820, 1100], 95)
    # Cost over the calls' minutes: 2 live calls of 120 s, one realtime of 95 s.
    assert live.cost.total_usd == pytest.approx(2 * LIVE_COST)
    assert live.cost_per_minute == pytest.approx(2 * LIVE_COST / 4)
    assert realtime.cost_per_minute == pytest.approx(REALTIME_COST / (95 / 60))
    assert live.cost_per_minute_label == pricing.format_usd(LIVE_COST / 2)


def test_it_prices_each_assistants_calls_as_their_engines_bill(
    assistant: Any,
) -> None:
    live_call(assistant)
    realtime_call(assistant)
    [usage] = stats.usage_by_assistant(period(), pricing.Prices.from_settings(settings))
    assert usage.calls == 2 and usage.session_seconds == 120
    assert usage.input_tokens == USAGE["input_tokens"] + 1_000
    assert usage.cost.total_usd == pytest.approx(REALTIME_COST + LIVE_COST)
    session = [line for line in usage.cost.lines if line.key == "session"]
    assert [line.tokens for line in session] == [120]
    assert session[0].usd == pytest.approx(0.1)


def test_the_dashboard_compares_engines_only_when_more_than_one_ran(
    staff_client: Client, assistant: Any
) -> None:
    realtime_call(assistant)
    response = staff_client.get("/dashboard/?days=7")
    assert response.context["engines"] == []
    html = response.content.decode()
    assert "Engines compared" not in html and "Session time" not in html
    live_call(assistant)
    response = staff_client.get("/dashboard/?days=7")
    assert [r.engine for r in response.context["engines"]] == [
        "openai-realtime",
        "openai-live",
    ]
    html = response.content.decode()
    assert 'id="engines-table"' in html
    assert 'href="/calls/?engine=openai-live">OpenAI GPT-Live</a>' in html
    assert pricing.format_usd(LIVE_COST / 2) in html  # live's cost per minute
    assert "800 ms" in html  # live's p50
    assert "Session time" in html and "120 s" in html
    total = pricing.format_usd(REALTIME_COST + LIVE_COST)
    assert f"<dd>{total}</dd>" in html


def test_simulate_call_prints_the_engine_and_the_engines_price(
    assistant: Any,
) -> None:
    out = io.StringIO()
    print_call(live_call(assistant), out)
    assert (
        f"Engine: OpenAI GPT-Live, session 120 s, estimated cost "
        f"{pricing.format_usd(LIVE_COST)}\n"
    ) in out.getvalue()
