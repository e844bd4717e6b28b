"""Form widgets for the assistants admin.

``DatalistInput`` is a text box with suggestions: the browser offers the listed
values (an HTML ``<datalist>``) but any text is accepted. Used for model names,
which change faster than our code does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms


class DatalistInput(forms.TextInput):
    template_name = "assistants/widgets/datalist.html"

    def __init__(
        self, suggestions: Iterable[str], attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(attrs)
        self.suggestions = tuple(suggestions)

    def get_context(
        self, name: str, value: Any, attrs: dict[str, Any] | None
    ) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        # Tie the list to this input's id; inline forms give every input its own.
        base = widget["attrs"].get("id") or f"id_{name}"
        widget["datalist_id"] = f"{base}_suggestions"
        widget["attrs"]["list"] = widget["datalist_id"]
        widget["attrs"].setdefault("autocomplete", "off")
        widget["suggestions"] = self.suggestions
        return context
