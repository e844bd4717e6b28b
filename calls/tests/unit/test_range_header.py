"""The recording view's Range header parser refuses oversized numbers."""

from __future__ import annotations

from calls.review.recording_views import parse_range


def test_a_range_with_thousands_of_digits_is_ignored_not_an_error() -> None:
    header = "bytes=" + "9" * 4400 + "-"
    assert parse_range(header, 1000) is None
    assert parse_range("bytes=0-" + "9" * 4400, 1000) is None


def test_ordinary_ranges_still_parse() -> None:
    assert parse_range("bytes=0-99", 1000) == (0, 99)
    assert parse_range("bytes=-100", 1000) == (900, 999)
    assert parse_range("bytes=2000-", 1000) == (-1, -1)
