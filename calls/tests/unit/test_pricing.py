"""calls.pricing: usage -> estimated cost, with the prices passed in."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from calls import pricing

PRICES = pricing.Prices(
    input_text=4.0,
    input_audio=32.0,
    cached_text=0.4,
    cached_audio=0.4,
    output_text=16.0,
    output_audio=64.0,
)


def test_it_prices_each_kind_at_its_rate() -> None:
    usage = {
        "input_tokens": 3_000_000,
        "input_text_tokens": 1_000_000,
        "input_audio_tokens": 2_000_000,
        "output_tokens": 2_000_000,
        "output_text_tokens": 1_000_000,
        "output_audio_tokens": 1_000_000,
    }
    cost = pricing.estimate(usage, PRICES)
    by_key = {line.key: line for line in cost.lines}
    assert by_key["input_text"].usd == pytest.approx(4.0)
    assert by_key["input_audio"].usd == pytest.approx(64.0)
    assert by_key["output_text"].usd == pytest.approx(16.0)
    assert by_key["output_audio"].usd == pytest.approx(64.0)
    assert cost.total_usd == pytest.approx(148.0)


def test_it_bills_cached_tokens_only_at_the_cached_rate() -> None:
    # OpenAI counts cached tokens inside text_tokens/audio_tokens.
    usage = {
        "input_tokens": 1200,
        "input_text_tokens": 900,
        "input_audio_tokens": 300,
        "cached_text_tokens": 700,
        "cached_audio_tokens": 68,
    }
    split = pricing.token_split(usage)
    assert split == {
        "input_audio": 232,
        "input_text": 200,
        "cached_audio": 68,
        "cached_text": 700,
        "output_audio": 0,
        "output_text": 0,
    }
    expected = (232 * 32 + 200 * 4 + 68 * 0.4 + 700 * 0.4) / 1_000_000
    assert pricing.estimate(usage, PRICES).total_usd == pytest.approx(expected)


def test_it_counts_unsplit_totals_as_audio() -> None:
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert pricing.estimate(usage, PRICES).total_usd == pytest.approx(96.0)


def test_it_costs_nothing_without_usage() -> None:
    cost = pricing.estimate({}, PRICES)
    assert cost.total_usd == 0
    assert cost.billed_lines == ()


def test_it_reads_prices_from_a_settings_object() -> None:
    settings = SimpleNamespace(
        PRICE_INPUT_TEXT_PER_M=1,
        PRICE_INPUT_AUDIO_PER_M=2,
        PRICE_CACHED_TEXT_PER_M=3,
        PRICE_CACHED_AUDIO_PER_M=4,
        PRICE_OUTPUT_TEXT_PER_M=5,
    )
    prices = pricing.Prices.from_settings(settings)
    assert prices == pricing.Prices(1.0, 2.0, 3.0, 4.0, 5.0, 0.0)


def test_it_formats_money_and_prices() -> None:
    assert pricing.format_usd(0.01234) == "$0.0123"
    assert pricing.format_usd(1234.5) == "$1,234.50"
    assert pricing.format_price(32.0) == "$32/M"
    assert pricing.format_price(0.4) == "$0.4/M"


def test_it_imports_no_django() -> None:
    code = (
        "import sys, calls.pricing; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
