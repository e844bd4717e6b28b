"""Scripted function calls of the simulator: a response that calls a tool.

``FunctionCallRun`` (for a ``tool_script.ScriptedToolCall``) is that response in
GA events: ``response.created``, after the think time
``response.output_item.added`` (a ``function_call`` item),
``response.function_call_arguments.delta``/``.done``, ``response.output_item.done``,
``conversation.item.added``/``.done`` and ``response.done`` listing the item. The
client then sends the ``function_call_output`` item and ``response.create``, and
the conversation speaks the output back (``spoken_tool_output``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from calls.tooling.simulators.realtime_server.base import new_id
from calls.tooling.simulators.realtime_server.contracts import ResponseHost
from calls.tooling.simulators.realtime_server.tool_script import ScriptedToolCall
from calls.tooling.simulators.realtime_server.usage import usage_for

logger = logging.getLogger(__name__)


class FunctionCallRun:
    """One response whose only output is a function call (no audio)."""

    audio_ms = 0  # AudioItem, for usage: a function call generates no audio
    transcript = ""

    def __init__(self, conn: ResponseHost, call: ScriptedToolCall) -> None:
        self.conn = conn
        self.call = call
        self.id = new_id("resp")
        self.item_id = new_id("item")
        self.call_id = new_id("call")
        self.arguments_sent = ""
        self.task: asyncio.Task[None] | None = None
        self.finished = False
        self.opened = False

    @property
    def active(self) -> bool:
        return not self.finished

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"sim-{self.id}")

    async def _run(self) -> None:
        try:
            await self.conn.send(
                {
                    "type": "response.created",
                    "response": self._response("in_progress", None),
                }
            )
            await self.conn.sleep_ms(self.conn.config.first_audio_delay_ms)
            await self._open()
            await self._stream_arguments()
            await self._close("completed", None)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("simulated function call %s failed", self.id)

    async def cancel(self, reason: str) -> None:
        """Stop; the response ends ``cancelled`` (the client must not run it)."""
        if self.finished:
            return
        self.finished = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self._close("cancelled", reason)

    def item(self, status: str) -> dict[str, Any]:
        return {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": status,
            "name": self.call.name,
            "call_id": self.call_id,
            "arguments": self.arguments_sent if status != "in_progress" else "",
        }

    def _response(self, status: str, reason: str | None) -> dict[str, Any]:
        done = status != "in_progress"
        item_status = "completed" if status == "completed" else "incomplete"
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": ({"type": status, "reason": reason} if reason else None),
            "output": [self.item(item_status)] if done and self.opened else [],
            "conversation_id": self.conn.conversation_id,
            "output_modalities": ["audio"],
            "max_output_tokens": "inf",
            "audio": {"output": dict(self.conn.session["audio"]["output"])},
            "usage": usage_for(self.conn, self) if done else None,
            "metadata": None,
        }

    async def _open(self) -> None:
        self.opened = True
        item = self.item("in_progress")
        await self.conn.send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        await self.conn.send(
            {
                "type": "conversation.item.added",
                "previous_item_id": self.conn.last_item_id,
                "item": item,
            }
        )
        self.conn.last_item_id = self.item_id

    async def _stream_arguments(self) -> None:
        # Two deltas, like a model streaming its JSON in pieces.
        arguments = self.call.arguments
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            if not piece:
                continue
            self.arguments_sent += piece
            await self.conn.send(
                {
                    "type": "response.function_call_arguments.delta",
                    "response_id": self.id,
                    "item_id": self.item_id,
                    "output_index": 0,
                    "call_id": self.call_id,
                    "delta": piece,
                }
            )
            await self.conn.sleep_ms(self.conn.config.chunk_ms / 10)
        await self.conn.send(
            {
                "type": "response.function_call_arguments.done",
                "response_id": self.id,
                "item_id": self.item_id,
                "output_index": 0,
                "call_id": self.call_id,
                "name": self.call.name,
                "arguments": self.arguments_sent,
            }
        )

    async def _close(self, status: str, reason: str | None) -> None:
        self.finished = True
        if self.opened:
            item = self.item("completed" if status == "completed" else "incomplete")
            await self.conn.send(
                {
                    "type": "response.output_item.done",
                    "response_id": self.id,
                    "output_index": 0,
                    "item": item,
                }
            )
            await self.conn.send(
                {
                    "type": "conversation.item.done",
                    "previous_item_id": None,
                    "item": item,
                }
            )
        if status == "completed":
            self.conn.record.tool_calls.append(
                {
                    "name": self.call.name,
                    "call_id": self.call_id,
                    "arguments": self.arguments_sent,
                }
            )
        self.conn.response_finished(self)
        await self.conn.send(
            {"type": "response.done", "response": self._response(status, reason)}
        )
