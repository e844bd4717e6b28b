"""The recording's length reads as the browser's player shows it: whole seconds
cut, like every offset and duration on the call page."""

from __future__ import annotations

from calls.review import recording_player
from calls.review.call_rows import format_duration


def test_the_players_hint_and_the_page_agree_on_a_length() -> None:
    assert recording_player._length(23_600) == "0:23"
    assert recording_player._length(23_600) == format_duration(23.6)
    assert recording_player._length(83_999) == "1:23"
