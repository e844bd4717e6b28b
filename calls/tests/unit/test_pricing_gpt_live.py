"""GPT-Live calls are priced by the second (``PRICE_LIVE_PER_MINUTE``) plus their
backend's text tokens; Realtime calls as before."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from calls import pricing


def test_it_prices_gpt_live_seconds_per_minute_and_backend_text() -> None:
    prices = pricing.Prices.from_settings(
        SimpleNamespace(
            PRICE_LIVE_PER_MINUTE=0.06,
            PRICE_INPUT_TEXT_PER_M=4.0,
            PRICE_CACHED_TEXT_PER_M=0.4,
            PRICE_OUTPUT_TEXT_PER_M=16.0,
            PRICE_INPUT_AUDIO_PER_M=32.0,
        )
    )
    usage = {
        "session_seconds": 90,
        "input_text_tokens": 1000,
        "cached_text_tokens": 500,
        "output_text_tokens": 100,
    }
    cost = pricing.estimate(usage, prices, engine="openai-live")
    assert [line.key for line in cost.billed_lines] == [
        "session",
        "input_text",
        "cached_text",
        "output_text",
    ]
    assert cost.lines[0].tokens == 90 and cost.lines[0].usd == pytest.approx(0.09)
    expected = 0.09 + (500 * 4.0 + 500 * 0.4 + 100 * 16.0) / 1_000_000
    assert cost.total_usd == pytest.approx(expected)
    assert cost.total_usd == pytest.approx(sum(line.usd for line in cost.lines))
    # A Realtime call is priced per token: session seconds are no part of its bill.
    realtime = pricing.estimate(usage, prices)
    assert "session" not in [line.key for line in realtime.lines]
    assert realtime.total_usd == pytest.approx(
        (500 * 4.0 + 500 * 0.4 + 100 * 16.0) / 1_000_000
    )
    assert pricing.live_seconds(usage) == 90
    assert cost.by_time and not realtime.by_time


def test_it_keeps_gpt_live_seconds_out_of_the_audio_token_lines() -> None:
    prices = pricing.Prices(input_audio=32.0, per_minute={"openai-live": 0.06})
    cost = pricing.estimate({"session_seconds": 60}, prices, engine="openai-live")
    assert [line.key for line in cost.billed_lines] == ["session"]
    assert cost.total_usd == pytest.approx(0.06)
    # The seconds are not audio tokens on any engine.
    assert pricing.estimate({"session_seconds": 60}, prices).total_usd == 0
