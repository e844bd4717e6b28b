"""Form widgets for the assistants admin.

``DatalistInput`` is a text box with suggestions: the browser offers the listed
values (an HTML ``<datalist>``) but any text is accepted. Used for model names,
which change faster than our code does. ``KeypadTable`` edits the keypad's actions
as a table instead of a JSON box.
"""

from __future__ import annotations

import json
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


KEYPAD_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
NOTHING, END_CALL, TRANSFER = "", "end_call", "transfer"


class KeypadTable(forms.Widget):
    """The keypad as a table: for each key, nothing (the model hears it), end
    the call, or transfer to a named destination. Posts as the same JSON object
    the assistants JSON has, so one set of validators checks both; a posted JSON
    text (``name`` itself) is read as before."""

    template_name = "assistants/widgets/keypad.html"

    def __init__(
        self, destinations: Iterable[str] = (), attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(attrs)
        self.destinations = tuple(destinations)

    def get_context(
        self, name: str, value: Any, attrs: dict[str, Any] | None
    ) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        actions = _as_dict(value)
        rows = []
        for key in KEYPAD_KEYS:
            action = actions.get(key)
            chosen, target = NOTHING, ""
            if isinstance(action, dict) and action.get("end_call"):
                chosen = END_CALL
            elif isinstance(action, dict) and "transfer" in action:
                chosen, target = TRANSFER, str(action.get("transfer") or "")
            rows.append(
                {
                    "key": key,
                    "field": _field(name, key),
                    "chosen": chosen,
                    "target": target,
                }
            )
        context["widget"]["rows"] = rows
        context["widget"]["destinations"] = self.destinations
        context["widget"]["choices"] = (
            (NOTHING, "The model hears it"),
            (END_CALL, "End the call"),
            (TRANSFER, "Transfer to"),
        )
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if not any(f"{_field(name, key)}-action" in data for key in KEYPAD_KEYS):
            return data.get(name)  # the JSON text, as posted by a script
        actions: dict[str, dict[str, Any]] = {}
        for key in KEYPAD_KEYS:
            field = _field(name, key)
            chosen = data.get(f"{field}-action", NOTHING)
            if chosen == END_CALL:
                actions[key] = {"end_call": True}
            elif chosen == TRANSFER:
                actions[key] = {
                    "transfer": (data.get(f"{field}-transfer") or "").strip()
                }
        return json.dumps(actions)


def _field(name: str, key: str) -> str:
    return f"{name}-" + {"*": "star", "#": "hash"}.get(key, key)


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
