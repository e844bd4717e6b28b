"""The rules for an assistant's tools, written once.

Both the assistants JSON import (``assistants.config`` / ``assistants.services``)
and the admin (model ``clean()`` methods and the inline formsets) call these, so
a document and a form are refused for the same reasons in the same words. Each
function returns the problem as text ("" or [] when there is none) and never
quotes a secret. Pure module: no Django.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from assistants.redaction_names import REDACTION_KINDS
from calls.egress.addresses import Destinations
from calls.vocabulary.tools import BUILT_IN_NAMES

KEYPAD_KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")
# The seven JSON Schema type names (draft 2020-12, "type" keyword).
SCHEMA_TYPES = frozenset(
    {"string", "number", "integer", "boolean", "object", "array", "null"}
)


def name_problem(name: str) -> str:
    """A tool name the model would confuse with a built-in function."""
    if name in BUILT_IN_NAMES:
        return (
            f'"{name}" is a built-in function\'s name ('
            + ", ".join(sorted(BUILT_IN_NAMES))
            + "); choose another."
        )
    return ""


def name_clashes(
    transfer_names: Sequence[str], webhook_names: Sequence[str]
) -> list[tuple[str, int, str]]:
    """(list, index, problem) for every name used twice across both lists.

    ``list`` is "transfer" or "webhooks". The model tells transfer destinations
    and webhook functions apart only by name, so one name is one tool.
    """
    seen: dict[str, str] = {}
    problems = []
    for kind, names in (("transfer", transfer_names), ("webhooks", webhook_names)):
        for index, name in enumerate(names):
            if name in seen:
                problems.append(
                    (kind, index, f'"{name}" is already the name of {seen[name]}.')
                )
            else:
                seen[name] = f"{kind}[{index}]"
    return problems


def url_problem(url: str, destinations: Destinations) -> str:
    """Why a webhook tool may not call ``url``: not http(s), user information in
    it, or an internal address the deployment has not allowed."""
    return destinations.url_problem(url)


def parameters_problem(schema: Any) -> str:
    """Why ``schema`` is not a JSON Schema for a function's arguments.

    First what the engines rely on, in words an admin user follows: an object
    schema (``"type": "object"``) whose ``properties`` map names to schemas,
    recursively, with well-formed ``type``, ``required``, ``items`` and ``enum``;
    then ``jsonschema``'s check of the whole schema against JSON Schema 2020-12,
    which the model's arguments are validated with. ``{}`` means "no arguments".
    """
    if not isinstance(schema, dict):
        return "must be a JSON Schema object."
    if schema == {}:
        return ""
    if schema.get("type") != "object":
        return 'must be an object schema: {"type": "object", "properties": {...}}.'
    problem = _schema_problem(schema, "")
    if problem:
        return problem
    try:
        # The model's arguments are validated against it on every call.
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        at = f" at {where}" if where else ""
        return f"is not a valid JSON Schema{at}: {exc.message}"
    return ""


def _schema_problem(schema: Any, where: str) -> str:
    at = f" (at {where})" if where else ""
    if isinstance(schema, bool):
        return ""  # true/false are schemas too
    if not isinstance(schema, dict):
        return f"every schema must be an object{at}."
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    if kind is not None and (
        not kinds or not all(isinstance(k, str) and k in SCHEMA_TYPES for k in kinds)
    ):
        return f'"type" must be one of {", ".join(sorted(SCHEMA_TYPES))}{at}.'
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return f'"properties" must be an object of schemas{at}.'
    for name, sub in properties.items():
        problem = _schema_problem(sub, f"{where}.{name}" if where else name)
        if problem:
            return problem
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return f'"required" must be a list of property names{at}.'
    if len(set(required)) != len(required):
        return f'"required" lists a name twice{at}.'
    if "items" in schema:
        problem = _schema_problem(schema["items"], f"{where}[]" if where else "[]")
        if problem:
            return problem
    if "enum" in schema and (
        not isinstance(schema["enum"], list) or not schema["enum"]
    ):
        return f'"enum" must be a non-empty list{at}.'
    if "description" in schema and not isinstance(schema["description"], str):
        return f'"description" must be text{at}.'
    return ""


def keypad_problems(keypad: Any, transfer_names: Collection[str] | None) -> list[str]:
    """Problems with a keypad map, each starting with its digit.

    ``transfer_names``: this assistant's transfer destinations, or None to check
    the shape only (when the destinations are not known yet).
    """
    if not isinstance(keypad, dict):
        return ['must be an object of digits, e.g. {"0": {"transfer": "reception"}}.']
    problems = []
    for key, action in keypad.items():
        if key not in KEYPAD_KEYS:
            problems.append(f'"{key}": keys are single keys: 0-9, * or #.')
        elif isinstance(action, dict) and set(action) == {"transfer"}:
            target = action["transfer"]
            if not isinstance(target, str) or not target:
                problems.append(f'"{key}": transfer: must be a destination\'s name.')
            elif transfer_names is not None and target not in transfer_names:
                known = ", ".join(f'"{n}"' for n in transfer_names) or "none"
                problems.append(
                    f'"{key}": transfer: "{target}" is not one of this '
                    f"assistant's transfer destinations ({known})."
                )
        elif action != {"end_call": True}:
            problems.append(
                f'"{key}": must be {{"transfer": "<destination name>"}} or '
                '{"end_call": true}.'
            )
    return problems


def silence_problem(reprompt_after: int | None, hang_up_after: int | None) -> str:
    """The hang-up must come after the reprompt, or the reprompt is never said."""
    both = reprompt_after is not None and hang_up_after is not None
    if both and hang_up_after <= reprompt_after:  # type: ignore[operator]
        return (
            f"must be longer than the reprompt time ({reprompt_after} s), "
            "or the reprompt is never said."
        )
    return ""


def redact_problem(value: Any) -> str:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "must be a list of names: " + ", ".join(REDACTION_KINDS) + "."
    unknown = [v for v in value if v not in REDACTION_KINDS]
    if unknown:
        return (
            ", ".join(f'"{v}"' for v in unknown)
            + " not known; the kinds are "
            + ", ".join(REDACTION_KINDS)
            + "."
        )
    if len(set(value)) != len(value):
        return "lists a kind twice."
    return ""
