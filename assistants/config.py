"""The assistants-as-code document: its shape, and checking one before any write.

A document is ``{"assistants": [entry, ...]}``. An entry has a ``name`` (required;
assistants are matched by it), any ``Assistant`` setting by its field name, and
optionally ``phone_numbers``: a list of E.164 strings or of objects
``{"number", "label", "is_active"}``. Some settings are nested rather than flat
(``NESTED_FIELDS``): ``tools`` (end_call, transfer, handoff, keypad, silence,
webhooks; the shape of ``Tools.to_data()``), ``recording``,
``transcript_retention_days`` and ``redact``. Tool rows are parsed into
``ToolRows``; the rules they share with the admin are ``tool_validators``.
``parse_document`` checks everything that can be checked without the database
(keys, types, choices, number format, duplicates) and reports every problem at
once, each naming the entry and the field;
``check_document`` does the same but hands the problems back with what could be
read, so that ``assistants.services`` can add the database's checks (ranges,
ownership, the fallback) and report everything in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from assistants import tool_validators
from assistants.languages import language_problem
from assistants.models import Assistant, e164_validator

# Model fields the JSON nests, by their path in an entry: exported and imported
# there, and named so in error messages.
NESTED_FIELDS: dict[str, str] = {
    "tools.end_call.enabled": "end_call_enabled",
    "tools.end_call.goodbye": "end_call_goodbye",
    "tools.keypad": "keypad",
    "tools.silence.reprompt_after_seconds": "silence_reprompt_after_seconds",
    "tools.silence.hang_up_after_seconds": "silence_hang_up_after_seconds",
    "tools.silence.reprompt": "silence_reprompt",
    "recording.enabled": "recording_enabled",
    "recording.retention_days": "recording_retention_days",
    "transcript_retention_days": "transcript_retention_days",
    "redact": "redact",
}
FIELD_PATHS: dict[str, str] = {field: path for path, field in NESTED_FIELDS.items()}
# Every flat persona setting, in the model's order: what export writes and import
# reads at the top of an entry.
SETTING_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in Assistant._meta.concrete_fields
    if field.name not in ("id", "name", "created_at", "updated_at")
    and field.name not in FIELD_PATHS
)
NESTED_KEYS = ("tools", "recording", "transcript_retention_days", "redact")
ENTRY_KEYS = ("name", *SETTING_FIELDS, *NESTED_KEYS, "phone_numbers")
NUMBER_KEYS = ("number", "label", "is_active")
# The objects inside an entry and the keys each may hold.
OBJECT_KEYS: dict[str, tuple[str, ...]] = {
    "tools": ("end_call", "transfer", "handoff", "keypad", "silence", "webhooks"),
    "tools.end_call": ("enabled", "goodbye"),
    "tools.silence": ("reprompt_after_seconds", "hang_up_after_seconds", "reprompt"),
    "recording": ("enabled", "retention_days"),
}
# Tool rows: their keys, and which are required text.
TRANSFER_KEYS = ("name", "number", "description", "message")
HANDOFF_KEYS = ("assistant", "description")
WEBHOOK_KEYS = (
    "name",
    "description",
    "url",
    "parameters",
    "timeout_seconds",
    "filler",
    "secret",
)


# Bounds of one document, checked before anything else (before any query, too):
# an import is one transaction, and every text is copied into each call's record.
MAX_ENTRIES = 1000
MAX_DEPTH = 32


class ConfigError(Exception):
    """The document was refused; ``errors`` lists every reason, one per line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class NumberSpec:
    number: str
    label: str = ""
    is_active: bool = True


@dataclass(frozen=True)
class TransferSpec:
    name: str
    number: str
    description: str = ""
    message: str = ""


@dataclass(frozen=True)
class HandoffSpec:
    assistant: str  # the target's name
    description: str = ""


@dataclass(frozen=True)
class WebhookSpec:
    name: str
    url: str
    description: str = ""
    parameters: Any = None
    timeout_seconds: int = 5
    filler: str = ""
    # None when not given; ``webhook_secrets.PLACEHOLDER`` keeps the stored one.
    secret: str | None = None


@dataclass(frozen=True)
class ToolRows:
    """The tool rows an entry lists; None for a list it does not mention (kept)."""

    transfer: tuple[TransferSpec, ...] | None = None
    handoff: tuple[HandoffSpec, ...] | None = None
    webhooks: tuple[WebhookSpec, ...] | None = None


@dataclass(frozen=True)
class EntrySpec:
    """One checked entry. ``numbers`` is None when the entry does not list any."""

    index: int
    name: str
    settings: dict[str, Any]
    numbers: tuple[NumberSpec, ...] | None
    # Settings given with the wrong type or choice: reported already, left out of
    # ``settings`` and of the model's validation.
    bad_fields: frozenset[str] = frozenset()
    has_errors: bool = False
    tools: ToolRows = ToolRows()

    @property
    def where(self) -> str:
        return entry_label(self.index, self.name)


def entry_label(index: int, name: Any = None) -> str:
    """How error messages name an entry: ``assistants[2] "Front desk"``."""
    if isinstance(name, str) and name:
        return f'assistants[{index}] "{name}"'
    return f"assistants[{index}]"


def parse_document(data: Any) -> list[EntrySpec]:
    """The document's entries, or ``ConfigError`` with every problem found."""
    entries, errors = check_document(data)
    if errors:
        raise ConfigError(errors)
    return entries


def check_document(data: Any) -> tuple[list[EntrySpec], list[str]]:
    """(every entry that has a usable name, every problem found).

    An entry with problems is still returned (``has_errors``), with its valid
    settings and numbers, so that later checks can report their problems too.
    """
    if not isinstance(data, dict) or not isinstance(data.get("assistants"), list):
        return [], ['The document must be an object: {"assistants": [...]}.']
    if len(data["assistants"]) > MAX_ENTRIES:
        return [], [
            f"The document has {len(data['assistants'])} assistants; at most "
            f"{MAX_ENTRIES} are imported at once (split the file)."
        ]
    errors = _document_problems(data["assistants"])
    if errors:
        return [], errors
    extra = sorted(set(data) - {"assistants"})
    if extra:
        errors.append(f"Unknown top-level key(s): {_quoted(extra)}.")
    entries = [
        entry
        for index, raw in enumerate(data["assistants"])
        if (entry := _parse_entry(index, raw, errors)) is not None
    ]
    _check_duplicates(entries, errors)
    return entries, errors


def _document_problems(entries: list[Any]) -> list[str]:
    """NUL characters (no database stores them) and nesting deeper than any
    setting needs, each named by entry and path; found without recursion."""
    problems: list[str] = []
    for index, raw in enumerate(entries):
        where = entry_label(index, raw.get("name") if isinstance(raw, dict) else None)
        where = where.replace("\x00", "\\x00")
        stack: list[tuple[Any, str, int]] = [(raw, "", 0)]
        too_deep = False
        while stack:
            value, path, depth = stack.pop()
            if isinstance(value, str):
                if "\x00" in value:
                    problems.append(
                        f"{where}: {path or 'name'}: must not contain a NUL character."
                    )
                continue
            if depth >= MAX_DEPTH and isinstance(value, dict | list) and value:
                too_deep = True
                continue
            if isinstance(value, dict):
                for key, item in value.items():
                    if "\x00" in key:
                        problems.append(
                            f"{where}: {path}: a key contains a NUL character."
                        )
                    stack.append((item, f"{path}.{key}" if path else key, depth + 1))
            elif isinstance(value, list):
                for position, item in enumerate(value):
                    stack.append((item, f"{path}[{position}]", depth + 1))
        if too_deep:
            problems.append(
                f"{where}: is nested more than {MAX_DEPTH} levels deep; no setting "
                "needs that."
            )
    return problems


def _parse_entry(index: int, raw: Any, errors: list[str]) -> EntrySpec | None:
    if not isinstance(raw, dict):
        errors.append(f"{entry_label(index)}: must be an object, not {_kind(raw)}.")
        return None
    where = entry_label(index, raw.get("name"))
    found = len(errors)
    unknown = sorted(set(raw) - set(ENTRY_KEYS))
    if unknown:
        errors.append(
            f"{where}: unknown key(s) {_quoted(unknown)}; "
            f"allowed keys are {_quoted(ENTRY_KEYS)}."
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f'{where}: "name" is required and must be non-empty text.')
    settings: dict[str, Any] = {}
    bad_fields = set()
    for key in SETTING_FIELDS:
        if key in raw:
            problem = _setting_problem(key, raw[key])
            if problem:
                errors.append(f"{where}: {key}: {problem}")
                bad_fields.add(key)
            else:
                settings[key] = raw[key]
    _parse_nested(where, raw, settings, bad_fields, errors)
    tools = _parse_tool_rows(where, raw.get("tools"), errors)
    numbers = None
    if "phone_numbers" in raw:
        numbers = _parse_numbers(where, raw["phone_numbers"], errors)
    if not isinstance(name, str) or not name.strip():
        return None
    return EntrySpec(
        index=index,
        name=name,
        settings=settings,
        numbers=numbers,
        bad_fields=frozenset(bad_fields),
        has_errors=len(errors) > found,
        tools=tools,
    )


def _parse_nested(
    where: str,
    raw: dict[str, Any],
    settings: dict[str, Any],
    bad_fields: set[str],
    errors: list[str],
) -> None:
    """Read the nested settings (``NESTED_FIELDS``) into flat ``settings``."""
    broken: set[str] = set()  # objects of the wrong type: nothing under them is read
    for path, keys in OBJECT_KEYS.items():
        value = _at(raw, path)
        if value is _MISSING or any(path.startswith(b + ".") for b in broken):
            continue
        if not isinstance(value, dict):
            errors.append(f"{where}: {path}: must be an object, not {_kind(value)}.")
            broken.add(path)
            continue
        unknown = sorted(set(value) - set(keys))
        if unknown:
            errors.append(
                f"{where}: {path}: unknown key(s) {_quoted(unknown)}; "
                f"allowed keys are {_quoted(keys)}."
            )
    for path, key in NESTED_FIELDS.items():
        if any(path.startswith(b + ".") for b in broken):
            continue
        value = _at(raw, path)
        if value is _MISSING:
            continue
        problems = _nested_problems(key, value)
        if problems:
            errors.extend(f"{where}: {path}: {problem}" for problem in problems)
            bad_fields.add(key)
        else:
            settings[key] = value


_MISSING = object()


def _at(raw: dict[str, Any], path: str) -> Any:
    value: Any = raw
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _nested_problems(key: str, value: Any) -> list[str]:
    if key == "keypad":
        # Whether transfers name real destinations is checked with the rows.
        return tool_validators.keypad_problems(value, None)
    if key == "redact":
        problem = tool_validators.redact_problem(value)
        return [problem] if problem else []
    problem = _setting_problem(key, value)
    return [problem] if problem else []


def _parse_tool_rows(where: str, tools: Any, errors: list[str]) -> ToolRows:
    if not isinstance(tools, dict):
        return ToolRows()  # absent, or reported by _parse_nested
    transfer = _parse_rows(
        f"{where}: tools.transfer", tools, "transfer", TRANSFER_KEYS, errors
    )
    handoff = _parse_rows(
        f"{where}: tools.handoff", tools, "handoff", HANDOFF_KEYS, errors
    )
    webhooks = _parse_rows(
        f"{where}: tools.webhooks", tools, "webhooks", WEBHOOK_KEYS, errors
    )
    return ToolRows(
        transfer=None
        if transfer is None
        else tuple(TransferSpec(**row) for row in transfer),
        handoff=None
        if handoff is None
        else tuple(HandoffSpec(**row) for row in handoff),
        webhooks=None
        if webhooks is None
        else tuple(WebhookSpec(**row) for row in webhooks),
    )


# Per row key: (required, check) where check says what the value must be.
_ROW_TYPES: dict[str, tuple[str, Any]] = {
    "parameters": ("a JSON Schema object", lambda v: isinstance(v, dict)),
    "timeout_seconds": (
        "a whole number",
        lambda v: isinstance(v, int) and not isinstance(v, bool),
    ),
}
_REQUIRED = {"name", "number", "url", "assistant"}


def _parse_rows(
    where: str,
    tools: dict[str, Any],
    key: str,
    keys: tuple[str, ...],
    errors: list[str],
) -> list[dict[str, Any]] | None:
    """The list ``tools[key]`` as checked keyword arguments; None when absent."""
    if key not in tools:
        return None
    raw = tools[key]
    if not isinstance(raw, list):
        errors.append(f"{where}: must be a list, not {_kind(raw)}.")
        return []
    rows = []
    for position, item in enumerate(raw):
        at = f"{where}[{position}]"
        if not isinstance(item, dict):
            errors.append(f"{at}: must be an object, not {_kind(item)}.")
            continue
        found = len(errors)
        unknown = sorted(set(item) - set(keys))
        if unknown:
            errors.append(
                f"{at}: unknown key(s) {_quoted(unknown)}; "
                f"allowed keys are {_quoted(keys)}."
            )
        for name in keys:
            if name not in item:
                if name in _REQUIRED:
                    errors.append(f"{at}.{name}: is required.")
                continue
            expected, check = _ROW_TYPES.get(
                name, ("text", lambda v: isinstance(v, str))
            )
            if not check(item[name]):
                errors.append(
                    f"{at}.{name}: must be {expected}, not {_kind(item[name])}."
                )
        if len(errors) == found:
            rows.append({name: item[name] for name in keys if name in item})
    return rows


def _setting_problem(key: str, value: Any) -> str:
    """Why ``value`` cannot be the setting ``key`` ("" when it can)."""
    field = Assistant._meta.get_field(key)
    if isinstance(field, models.BooleanField):
        expected, ok = "true or false", isinstance(value, bool)
    elif isinstance(field, models.FloatField):
        expected = "a finite number"
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
    elif isinstance(field, models.IntegerField):
        expected = "a whole number"
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        expected, ok = "text", isinstance(value, str)
    if value is None and isinstance(field, models.Field) and field.null:
        return ""  # e.g. a retention period left to the deployment's default
    if not ok:
        return f"must be {expected}, not {_kind(value)}."
    # SETTING_FIELDS are concrete fields; the check narrows get_field()'s union.
    field_choices = field.choices if isinstance(field, models.Field) else None
    choices = [str(choice) for choice, _ in field_choices or ()]
    blank_ok = isinstance(field, models.Field) and field.blank and value == ""
    if choices and value not in choices and not blank_ok:
        return f'"{value}" is not one of {_quoted(choices)}.'
    if key == "transcription_language":
        return language_problem(value)
    return ""


def _parse_numbers(where: str, raw: Any, errors: list[str]) -> tuple[NumberSpec, ...]:
    if not isinstance(raw, list):
        errors.append(f"{where}: phone_numbers: must be a list, not {_kind(raw)}.")
        return ()
    numbers = []
    for position, item in enumerate(raw):
        spec = _parse_number(f"{where}: phone_numbers[{position}]", item, errors)
        if spec is not None:
            numbers.append(spec)
    return tuple(numbers)


def _parse_number(where: str, item: Any, errors: list[str]) -> NumberSpec | None:
    if isinstance(item, str):
        item = {"number": item}
    if not isinstance(item, dict):
        errors.append(
            f"{where}: must be a number as text or an object with "
            f'"number", not {_kind(item)}.'
        )
        return None
    problems = []
    unknown = sorted(set(item) - set(NUMBER_KEYS))
    if unknown:
        problems.append(
            f"unknown key(s) {_quoted(unknown)}; allowed keys are "
            f"{_quoted(NUMBER_KEYS)}."
        )
    number, label = item.get("number"), item.get("label", "")
    is_active = item.get("is_active", True)
    if not isinstance(number, str):
        problems.append(f'"number" is required and must be text, not {_kind(number)}.')
    else:
        try:
            e164_validator(number)
        except ValidationError as exc:
            problems.append(f'"{number}": {exc.messages[0]}')
    if not isinstance(label, str):
        problems.append(f"label: must be text, not {_kind(label)}.")
    if not isinstance(is_active, bool):
        problems.append(f"is_active: must be true or false, not {_kind(is_active)}.")
    errors.extend(f"{where}: {problem}" for problem in problems)
    if problems or not isinstance(number, str):
        return None
    return NumberSpec(number=number, label=label, is_active=is_active)


def _check_duplicates(entries: list[EntrySpec], errors: list[str]) -> None:
    names: dict[str, EntrySpec] = {}
    owners: dict[str, EntrySpec] = {}
    fallbacks = []
    for entry in entries:
        if entry.name in names:
            errors.append(
                f"{entry.where}: the name is already used by "
                f"{names[entry.name].where}; names must be unique."
            )
        names.setdefault(entry.name, entry)
        if entry.settings.get("is_fallback") is True:
            fallbacks.append(entry.where)
        for spec in entry.numbers or ():
            owner = owners.get(spec.number)
            if owner is entry:
                errors.append(
                    f"{entry.where}: phone_numbers: {spec.number} is listed twice."
                )
            elif owner is not None:
                errors.append(
                    f"{entry.where}: phone_numbers: {spec.number} is also "
                    f"listed under {owner.where}."
                )
            owners.setdefault(spec.number, entry)
    if len(fallbacks) > 1:
        errors.append(
            f"At most one assistant can be the fallback; is_fallback is "
            f"true for {', '.join(fallbacks)}."
        )


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _quoted(items: Any) -> str:
    return ", ".join(f'"{item}"' for item in items)
