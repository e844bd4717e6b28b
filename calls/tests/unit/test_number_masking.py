"""Caller numbers are masked whatever their length."""

from __future__ import annotations

import pytest

from calls.privacy.masking import MIN_HIDDEN, mask_number


def test_a_nanp_number_keeps_country_area_code_and_last_four() -> None:
    assert mask_number("+15551234567") == "+1555•••4567"


@pytest.mark.parametrize(
    "number", ["+4412345", "+44123456", "+441234567", "12345", "1234", "+442079460958"]
)
def test_short_and_long_numbers_hide_at_least_three_characters(number: str) -> None:
    masked = mask_number(number)
    hidden = masked.count("•")
    assert hidden >= MIN_HIDDEN
    assert len(masked) == len(number)
    assert masked != number


def test_no_number_stays_empty() -> None:
    assert mask_number("") == ""
