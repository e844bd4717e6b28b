"""What a tool answers or a model sends is shown to staff without breaking pages."""

from __future__ import annotations

import sys

from calls.review.tool_rows import pretty_json


def test_deeply_nested_json_is_shown_as_it_came() -> None:
    # Deeper than the JSON parser's recursion allows: 16 KB of brackets.
    text = "[" * 8000 + "]" * 8000
    assert pretty_json(text) == text


def test_nested_json_just_within_the_parser_is_indented_or_shown_as_is() -> None:
    depth = sys.getrecursionlimit() // 2
    text = "[" * depth + "]" * depth
    shown = pretty_json(text)
    assert shown.replace(" ", "").replace("\n", "") == text
