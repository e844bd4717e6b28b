"""The model's function calls in flight, and the answer they are owed.

A call's result goes back as a function-call output; the model then needs one
response request to speak. That request must wait: never while a response is
active or one we asked for has not started (the engine refuses it), and not
before every call of the batch has its output (parallel calls get one answer).
``ToolCalls`` keeps that bookkeeping; ``tool_flow.ToolFlow`` decides when to
send. No engine types, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(slots=True)
class PendingCall:
    call_id: str
    name: str
    arguments: str
    response_id: str
    seq: int  # its transcript row's place in the conversation
    offset_ms: int
    requested_ms: int

    def argument(self, key: str) -> str:
        """A string argument of the call ("" if absent or unreadable)."""
        try:
            data: Any = orjson.loads(self.arguments or "{}")
        except orjson.JSONDecodeError:
            return ""
        value = data.get(key) if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""


@dataclass(slots=True)
class ToolCalls:
    pending: dict[str, PendingCall] = field(default_factory=dict)
    # An output was sent and the model has not been asked to answer it yet.
    want_response: bool = False
    # When the last result came, until the first audio of its answer.
    result_ms: int | None = None
    # Result -> first audio of the answer, per answer (ms), for the notes/bench.
    answer_latencies: list[int] = field(default_factory=list)

    def add(self, call: PendingCall) -> PendingCall:
        self.pending[call.call_id] = call
        return call

    def take(self, call_id: str) -> PendingCall | None:
        return self.pending.pop(call_id, None)


def output(**data: Any) -> str:
    """A JSON output for the model."""
    return orjson.dumps(data).decode()
