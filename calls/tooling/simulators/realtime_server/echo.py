"""Echo mode, for the benchmark: every appended chunk comes straight back as audio.

Each ``input_audio_buffer.append`` is answered with one ``response.output_audio.delta``
carrying the same base64 payload, all in one long-lived response and item. No VAD,
no transcripts, nothing logged or recorded per frame: the call runtime, not this loop,
must be what a benchmark measures. Other client events get minimal valid replies.
"""

from __future__ import annotations

from typing import Any

import orjson

from calls.tooling.simulators.realtime_server.base import SessionConnection, new_id

_APPEND_MARK = '"input_audio_buffer.append"'


class EchoSession(SessionConnection):
    record_appends = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.response_id = new_id("resp")
        self.item_id = new_id("item")
        self._opened = False
        self._delta_head = (
            '{"type":"response.output_audio.delta","response_id":"'
            + self.response_id
            + '","item_id":"'
            + self.item_id
            + '","output_index":0,"content_index":0,"event_id":"echo_'
        )

    async def handle_message(self, message: str | bytes) -> None:
        if isinstance(message, str) and _APPEND_MARK in message:
            try:
                audio = orjson.loads(message).get("audio")
            except (orjson.JSONDecodeError, AttributeError):
                audio = None
            if isinstance(audio, str):
                await self._echo(audio)
                return
        await super().handle_message(message)

    async def _echo(self, audio: str) -> None:
        record = self.record
        if not self._opened:
            await self._open()
        record.appends += 1
        record.deltas_sent += 1
        size = len(audio) * 3 // 4
        record.audio_in_bytes += size
        record.audio_out_bytes += size
        if '"' in audio or "\\" in audio:
            return  # not base64: never splice it into JSON
        await self.ws.send(
            f'{self._delta_head}{record.deltas_sent}","delta":"{audio}"}}'
        )

    async def _open(self) -> None:
        self._opened = True
        item = {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        response = {
            "id": self.response_id,
            "object": "realtime.response",
            "status": "in_progress",
            "output": [],
        }
        await self.send({"type": "response.created", "response": response})
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": self.response_id,
                "output_index": 0,
                "item": item,
            }
        )
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": None, "item": item}
        )

    async def on_response_create(self, event: dict[str, Any]) -> None:
        # A greeting request: an empty response that completes at once.
        response = {"id": new_id("resp"), "object": "realtime.response", "output": []}
        await self.send(
            {
                "type": "response.created",
                "response": {**response, "status": "in_progress"},
            }
        )
        await self.send(
            {
                "type": "response.done",
                "response": {**response, "status": "completed", "usage": None},
            }
        )

    async def on_response_cancel(self, event: dict[str, Any]) -> None:
        await self.error(
            "response_cancel_not_active",
            "Cancellation failed: no active response found",
            event=event,
        )

    async def on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        self.record.truncations.append(
            {
                "item_id": event.get("item_id"),
                "audio_end_ms": event.get("audio_end_ms"),
                "audio_ms": self.record.audio_out_bytes // 8,
                "accepted": True,
            }
        )
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": event.get("item_id"),
                "content_index": 0,
                "audio_end_ms": event.get("audio_end_ms"),
            }
        )

    async def on_conversation_item_create(self, event: dict[str, Any]) -> None:
        raw = event.get("item")
        item: dict[str, Any] = raw if isinstance(raw, dict) else {}
        item = {**item, "id": item.get("id") or new_id("item")}
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": None, "item": item}
        )
        await self.send(
            {"type": "conversation.item.done", "previous_item_id": None, "item": item}
        )

    async def on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        await self.send({"type": "input_audio_buffer.cleared"})

    async def on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        await self.send(
            {
                "type": "input_audio_buffer.committed",
                "item_id": new_id("item"),
                "previous_item_id": None,
            }
        )
