"""Which caller turns the simulated model answers with a function call.

``ScriptedToolCall`` comes from ``--tool-call 'lookup_order:{"order_id":"A17"}'``
(``parse_tool_call``); ``spoken_tool_output`` is what the model says once the
client has sent the tool's output back. No imports of the simulator: the config
module needs these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

RESULT_PREFIX = "The result is: "


@dataclass(frozen=True)
class ScriptedToolCall:
    """Answer caller turn ``after_turn`` (1 = the first) by calling ``name``."""

    name: str
    arguments: str = "{}"  # a JSON string, as the model sends it
    after_turn: int = 1


def parse_tool_call(spec: str, *, after_turn: int = 1) -> ScriptedToolCall:
    """``name:{json}`` (or just ``name``, for ``{}``) as a scripted call.

    Raises ValueError for an empty name or arguments that are not a JSON object.
    """
    name, _, arguments = spec.partition(":")
    name, arguments = name.strip(), arguments.strip() or "{}"
    if not name:
        raise ValueError(f"tool call {spec!r} has no function name")
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise ValueError(f"tool call {name} arguments are not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError(f"tool call {name} arguments must be a JSON object")
    return ScriptedToolCall(name, arguments, after_turn)


def spoken_tool_output(output: str) -> str:
    """What the simulated model says after a tool returned ``output``."""
    return RESULT_PREFIX + output
