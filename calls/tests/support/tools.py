"""Assistants that act, for tests: a persona snapshot with every kind of tool, and
the Realtime event of the model calling one."""

from __future__ import annotations

import json
from typing import Any

from calls.tests.support.frames import (
    dumps,
    load,
)
from calls.tests.support.frames.harness import snapshot

TOOLS: dict[str, Any] = {
    "end_call": {"enabled": True, "goodbye": "Thanks for calling, bye!"},
    "transfer": [
        {
            "name": "billing",
            "number": "+15550001111",
            "description": "Invoices and payments",
            "message": "Putting you through to billing.",
        },
        {"name": "front desk", "number": "+15550002222"},
    ],
    "handoff": [
        {"assistant": "Spanish", "description": "Callers who speak Spanish"},
    ],
    "keypad": {"0": {"transfer": "front desk"}, "9": {"end_call": True}},
    "silence": {
        "reprompt_after_seconds": 8,
        "hang_up_after_seconds": 20,
        "reprompt": "Are you still there?",
    },
    "webhooks": [
        {
            "name": "lookup_order",
            "description": "Look up an order by its number.",
            "url": "https://hooks.example.com/orders",
            "parameters": {
                "type": "object",
                "properties": {"order": {"type": "string"}},
                "required": ["order"],
            },
        }
    ],
}


def tools_snapshot(**changes: Any) -> dict[str, Any]:
    tools = {**TOOLS, **changes}
    tools["handoff"] = [{**h, "assistant_id": 7} for h in tools["handoff"]]
    return snapshot(tools=tools)


def rt_call(
    name: str,
    arguments: dict[str, Any] | None = None,
    call_id: str = "call_1",
    response_id: str = "resp_2",
) -> str:
    event = load("realtime_function_call_arguments_done")
    event.update(
        name=name,
        call_id=call_id,
        response_id=response_id,
        item_id=f"item_{call_id}",
        arguments=json.dumps(arguments or {}),
    )
    return dumps(event)
