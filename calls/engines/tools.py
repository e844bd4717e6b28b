"""The functions a persona's model can call, as engine-neutral JSON definitions.

Both OpenAI engines take the same ``{"type": "function", "name", "description",
"parameters"}`` shape (Realtime in ``session.tools``, GPT-Live in its Responses
delegation's ``tools``), so the definitions are built once here from
``Persona.tools``. Built-ins have fixed schemas; a webhook tool brings its own.
Pure module: no Django.
"""

from __future__ import annotations

from typing import Any

from calls.vocabulary.tools import END_CALL, HANDOFF, TRANSFER_CALL, Tools

END_CALL_DESCRIPTION = (
    "End the phone call. Call this only when the caller is finished or asks to "
    "hang up; the goodbye is said for you."
)
TRANSFER_DESCRIPTION = (
    "Transfer the caller to a person or department. Tell the caller first. "
    "Destinations:"
)
HANDOFF_DESCRIPTION = (
    "Hand the conversation to another assistant who is better placed to help. "
    "Assistants:"
)
NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


def function_tools(tools: Tools) -> list[dict[str, Any]]:
    """The function definitions for ``tools``, built-ins first (empty if none)."""
    out: list[dict[str, Any]] = []
    if tools.end_call.enabled:
        out.append(
            _function(
                END_CALL,
                END_CALL_DESCRIPTION,
                {
                    "type": "object",
                    "properties": {
                        "reason": {
                            "type": "string",
                            "description": "Why the call ends, in a few words.",
                        }
                    },
                },
            )
        )
    if tools.transfer:
        names = [t.name for t in tools.transfer]
        lines = [_line(t.name, t.description) for t in tools.transfer]
        out.append(
            _function(
                TRANSFER_CALL,
                "\n".join([TRANSFER_DESCRIPTION, *lines]),
                _one_choice("destination", names, "Where to transfer the caller."),
            )
        )
    if tools.handoff:
        names = [h.assistant for h in tools.handoff]
        lines = [_line(h.assistant, h.description) for h in tools.handoff]
        out.append(
            _function(
                HANDOFF,
                "\n".join([HANDOFF_DESCRIPTION, *lines]),
                _one_choice("assistant", names, "Which assistant takes over."),
            )
        )
    for hook in tools.webhooks:
        out.append(
            _function(hook.name, hook.description, hook.parameters or NO_PARAMETERS)
        )
    return out


def _function(
    name: str, description: str, parameters: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": parameters,
    }


def _one_choice(key: str, names: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            key: {"type": "string", "enum": names, "description": description}
        },
        "required": [key],
    }


def _line(name: str, description: str) -> str:
    return f"- {name}: {description}" if description else f"- {name}"
