"""A webhook tool's parameters must be a valid JSON Schema (the model's
arguments are validated against it on every call)."""

from __future__ import annotations

from assistants.tool_validators import parameters_problem


def test_a_schema_jsonschema_refuses_is_refused_where_it_is_wrong() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": -1}},
    }
    problem = parameters_problem(schema)
    assert problem.startswith("is not a valid JSON Schema at properties/name")


def test_a_valid_schema_passes() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}},
        "required": ["name"],
    }
    assert parameters_problem(schema) == ""
