"""The model's arguments are checked against the tool's JSON Schema before the
webhook is called: a mismatch is an error the model can correct, and no request
is made."""

from __future__ import annotations

import json
from typing import Any

from calls.callstate.actions import TOOL_ERROR, TOOL_OK, RunTool, ToolResult
from calls.tools.runner import WebhookTools
from calls.vocabulary.tools import WebhookTool

SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^A[0-9]+$"},
        "quantity": {"type": "integer", "minimum": 1},
    },
    "required": ["order_id"],
    "additionalProperties": False,
}


def tools(posted: list[Any], parameters: dict[str, Any] = SCHEMA) -> WebhookTools:
    async def post(request: Any, **kwargs: Any) -> ToolResult:
        posted.append(request)
        return ToolResult('{"ok": true}', TOOL_OK)

    tool = WebhookTool(
        name="lookup_order",
        description="Look up an order.",
        url="https://erp.example.com/lookup",
        parameters=parameters,
    )
    return WebhookTools(
        [tool],
        {"lookup_order": "whsec_x"},
        call_sid="CA1",
        assistant="Front desk",
        caller_number="+15550000000",
        post=post,
    )


def run(arguments: dict[str, Any]) -> RunTool:
    return RunTool(call_id="c1", name="lookup_order", arguments=json.dumps(arguments))


async def test_arguments_that_match_are_sent() -> None:
    posted: list[Any] = []
    result = await tools(posted)(run({"order_id": "A17", "quantity": 2}))
    assert result.status == TOOL_OK
    assert posted[0].arguments == {"order_id": "A17", "quantity": 2}


async def test_arguments_that_do_not_match_are_refused_without_a_request() -> None:
    posted: list[Any] = []
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "'order_id' is a required property"),
        ({"order_id": "B1"}, "at order_id"),
        ({"order_id": "A1", "quantity": 0}, "at quantity"),
        ({"order_id": "A1", "extra": 1}, "Additional properties"),
    ]
    for arguments, expected in cases:
        result = await tools(posted)(run(arguments))
        assert result.status == TOOL_ERROR
        error = json.loads(result.output)["error"]
        assert "do not match its parameters" in error and expected in error, error
    assert posted == []


async def test_a_tool_without_parameters_takes_any_object() -> None:
    posted: list[Any] = []
    result = await tools(posted, parameters={})(run({"anything": True}))
    assert result.status == TOOL_OK and len(posted) == 1
