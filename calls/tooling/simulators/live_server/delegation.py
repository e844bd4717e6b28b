"""Scripted backend tool calls of the GPT-Live simulator (Responses delegation).

For a caller turn with a ``ScriptedToolCall`` due, the session says a short
acknowledgement and ``delegate`` sends what the real service does:
``session.delegation.created``, then ``response.event`` envelopes (carrying the
delegation id) around the nested Responses stream: ``response.created``,
``response.output_item.added`` (function_call in progress),
``response.function_call_arguments.delta``/``.done`` (no name or call id, as
documented), ``response.output_item.done`` (the completed call) and
``response.completed`` with ``output: []``. The client answers with
``response.item.create`` (``function_call_output``) and one ``response.create``;
``continuation`` is then the nested text response, which the voice model speaks
("The result is: <output>").
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.tool_script import (
    ScriptedToolCall,
    spoken_tool_output,
)

ACKNOWLEDGEMENT = "Let me check that for you."
BACKEND_MODEL = "backend-simulated"
Send = Callable[[dict[str, Any]], Awaitable[None]]


def backend_response(response_id: str, status: str) -> dict[str, Any]:
    """A nested Responses snapshot: lifecycle events list no output (documented)."""
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "model": BACKEND_MODEL,
        "status": status,
        "output": [],
        "tools": [],
        "instructions": None,
        "parallel_tool_calls": False,
        "tool_choice": "auto",
    }
    if status == "completed":
        response["usage"] = {
            "input_tokens": 240,
            "input_tokens_details": {"cached_tokens": 128, "cache_write_tokens": 0},
            "output_tokens": 24,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 264,
        }
    return response


@dataclass
class Delegation:
    id: str
    call_ids: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return bool(self.call_ids) and set(self.call_ids) <= set(self.outputs)


class Delegations:
    """The session's delegations, their calls and the outputs sent back."""

    def __init__(self, send: Send, record: ConnectionRecord) -> None:
        self.send = send
        self.record = record
        self.open: list[Delegation] = []

    async def _event(
        self,
        delegation: Delegation,
        seq: int,
        nested: dict[str, Any],
        client_event_id: Any = None,
    ) -> None:
        event = {
            "type": "response.event",
            "delegation_id": delegation.id,
            "event": {**nested, "sequence_number": seq},
        }
        if client_event_id is not None:
            event["client_event_id"] = client_event_id
        await self.send(event)

    async def delegate(self, call: ScriptedToolCall, offset_ms: int) -> None:
        delegation = Delegation("item_" + secrets.token_hex(6))
        response_id = "resp_" + secrets.token_hex(6)
        item_id = "fc_" + secrets.token_hex(6)
        call_id = "call_" + secrets.token_hex(6)
        self.open.append(delegation)
        await self.send(
            {
                "type": "session.delegation.created",
                "offset_ms": offset_ms,
                "delegation": {
                    "id": delegation.id,
                    "type": "delegation",
                    "target": "responses",
                    "response_id": response_id,
                },
            }
        )
        item = {
            "type": "function_call",
            "id": item_id,
            "call_id": call_id,
            "name": call.name,
            "arguments": "",
            "status": "in_progress",
        }
        ids = {"item_id": item_id, "output_index": 0}
        stream: list[dict[str, Any]] = [
            {
                "type": "response.created",
                "response": backend_response(response_id, "in_progress"),
            },
            {"type": "response.output_item.added", "output_index": 0, "item": item},
            {
                "type": "response.function_call_arguments.delta",
                **ids,
                "delta": call.arguments,
            },
            {
                "type": "response.function_call_arguments.done",
                **ids,
                "arguments": call.arguments,
            },
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {**item, "arguments": call.arguments, "status": "completed"},
            },
            {
                "type": "response.completed",
                "response": backend_response(response_id, "completed"),
            },
        ]
        for seq, nested in enumerate(stream):
            await self._event(delegation, seq, nested)
            if nested["type"] == "response.output_item.done":
                delegation.call_ids.append(call_id)
                self.record.tool_calls.append(
                    {"name": call.name, "call_id": call_id, "arguments": call.arguments}
                )

    def output(self, call_id: str, output: str) -> None:
        """A ``function_call_output`` from the client."""
        self.record.tool_outputs.append({"call_id": call_id, "output": output})
        for delegation in self.open:
            if call_id in delegation.call_ids:
                delegation.outputs[call_id] = output
                return
        self.record.warnings.append(f"function_call_output for unknown {call_id}")

    def ready(self) -> Delegation | None:
        """The first delegation whose every call has an output, if any."""
        return next((d for d in self.open if d.answered), None)

    async def continuation(self, delegation: Delegation, client_event_id: Any) -> str:
        """The backend's text continuation; returns what the voice model says."""
        self.open.remove(delegation)
        text = spoken_tool_output(
            " ".join(delegation.outputs[c] for c in delegation.call_ids)
        )
        response_id = "resp_" + secrets.token_hex(6)
        message_id = "msg_" + secrets.token_hex(6)
        stream: list[dict[str, Any]] = [
            {
                "type": "response.created",
                "response": backend_response(response_id, "in_progress"),
            },
            {
                "type": "response.output_text.delta",
                "item_id": message_id,
                "output_index": 0,
                "content_index": 0,
                "delta": text,
                "logprobs": [],
            },
            {
                "type": "response.completed",
                "response": backend_response(response_id, "completed"),
            },
        ]
        for seq, nested in enumerate(stream):
            await self._event(
                delegation, seq, nested, client_event_id if seq == 0 else None
            )
        return text
