"""Conversation-item client events of the simulator: create, delete, truncate.

A mixin for ``Conversation``: items created by the client are acknowledged (a
quoted greeting in an ``input_text``, or a ``function_call_output``, remembered for
the next ``response.create`` to speak);
truncation is checked against the audio actually generated for the item, like the
real server, and every request is recorded for tests.
"""

from __future__ import annotations

from typing import Any

from calls.tooling.simulators.realtime_server.base import SessionConnection, new_id
from calls.tooling.simulators.realtime_server.contracts import AudioItem
from calls.tooling.simulators.realtime_server.responses import quoted_text


class ItemEvents(SessionConnection):
    items: dict[str, AudioItem]
    user_items: set[str]
    last_item_id: str | None
    quoted_request: str | None
    # A tool's output the next response.create speaks back.
    pending_tool_output: str | None

    async def on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict) or "type" not in item:
            await self.error(
                "invalid_value",
                "item must be an object with a type.",
                param="item",
                event=event,
            )
            return
        item = {
            **item,
            "id": item.get("id") or new_id("item"),
            "object": "realtime.item",
        }
        item.setdefault("status", "completed")
        if item["type"] == "function_call_output":
            self._tool_output(item)
        for part in item.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "input_text":
                self.quoted_request = (
                    quoted_text(part.get("text") or "") or self.quoted_request
                )
        previous = event.get("previous_item_id") or self.last_item_id
        await self.send(
            {
                "type": "conversation.item.added",
                "previous_item_id": previous,
                "item": item,
            }
        )
        await self.send(
            {
                "type": "conversation.item.done",
                "previous_item_id": previous,
                "item": item,
            }
        )
        self.last_item_id = item["id"]

    def _tool_output(self, item: dict[str, Any]) -> None:
        call_id, output = item.get("call_id"), item.get("output")
        known = {call["call_id"] for call in self.record.tool_calls}
        if call_id not in known:
            self.record.warnings.append(f"function_call_output for unknown {call_id}")
        self.record.tool_outputs.append({"call_id": call_id, "output": output})
        self.pending_tool_output = str(output if output is not None else "")

    async def on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        await self.send(
            {"type": "conversation.item.deleted", "item_id": event.get("item_id")}
        )

    async def on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = event.get("item_id")
        audio_end_ms = event.get("audio_end_ms")
        run = self.items.get(str(item_id))
        entry = {
            "item_id": item_id,
            "audio_end_ms": audio_end_ms,
            "audio_ms": run.audio_ms if run else None,
            "accepted": False,
        }
        self.record.truncations.append(entry)
        problem = self._truncate_problem(
            run, item_id, event.get("content_index"), audio_end_ms
        )
        if problem:
            await self.error(
                "invalid_value", problem, param="audio_end_ms", event=event
            )
            return
        entry["accepted"] = True
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    def _truncate_problem(
        self,
        run: AudioItem | None,
        item_id: Any,
        content_index: Any,
        audio_end_ms: Any,
    ) -> str | None:
        if run is None:
            if item_id in self.user_items:
                return f"Item {item_id} is not an assistant audio item."
            return f"Conversation item with id '{item_id}' not found."
        if content_index != 0:
            return "content_index must be 0."
        if not isinstance(audio_end_ms, int) or audio_end_ms < 0:
            return "audio_end_ms must be a non-negative integer."
        if audio_end_ms > run.audio_ms:
            return (
                f"audio_end_ms ({audio_end_ms}ms) is greater than the item's audio "
                f"duration ({run.audio_ms}ms)."
            )
        return None
