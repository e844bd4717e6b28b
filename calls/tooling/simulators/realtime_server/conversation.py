"""Conversation mode: VAD turns, scripted transcripts and answers, barge-in.

Caller audio goes through the energy VAD; each finished turn is committed as a user
item, transcribed after a delay (only if the session asked for transcription) with
the next scripted caller line, and answered with the next scripted answer when
``create_response`` is on. Speech during an answer cancels it when
``interrupt_response`` is on. ``response.create`` speaks a greeting: the quoted text
in its instructions, else the configured default. A caller turn with a scripted
function call (``config.tool_calls``) is answered by a ``FunctionCallRun``; the
``response.create`` after its ``function_call_output`` speaks that output.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from websockets.asyncio.server import ServerConnection

from calls.tooling.simulators.audio import BYTES_PER_MS
from calls.tooling.simulators.realtime_server.base import new_id
from calls.tooling.simulators.realtime_server.config import SimulatorConfig
from calls.tooling.simulators.realtime_server.contracts import AudioItem
from calls.tooling.simulators.realtime_server.function_calls import FunctionCallRun
from calls.tooling.simulators.realtime_server.items import ItemEvents
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.responses import ResponseRun, quoted_text
from calls.tooling.simulators.realtime_server.tool_script import spoken_tool_output
from calls.tooling.simulators.realtime_server.vad import EnergyVad


class Conversation(ItemEvents):
    def __init__(
        self, ws: ServerConnection, record: ConnectionRecord, config: SimulatorConfig
    ) -> None:
        super().__init__(ws, record, config)
        self.vad = EnergyVad(self.turn_detection)
        self.response: ResponseRun | FunctionCallRun | None = None
        self.items: dict[str, AudioItem] = {}
        self.user_items: set[str] = set()
        self.last_item_id: str | None = None
        self.turn_item_id: str | None = None
        self.buffered_ms = 0  # appended since the last commit/clear
        self.input_audio_ms = 0
        self.caller_turns = 0
        self.answers_given = 0
        self.quoted_request: str | None = None
        self.pending_tool_output: str | None = None
        self.cached_tokens = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        vad: dict[str, Any] | None = self.session["audio"]["input"]["turn_detection"]
        return vad

    def session_changed(self) -> None:
        self.vad.configure(self.turn_detection)
        if self.session["audio"]["input"]["format"]["type"] != "audio/pcmu":
            self.record.warnings.append("input format is not audio/pcmu")

    async def closing(self) -> None:
        if self.response is not None:
            self.response.finished = True
            if self.response.task is not None:
                self.response.task.cancel()
        for task in self._tasks:
            task.cancel()

    # Caller audio and turns.

    async def on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        try:
            chunk = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, ValueError):
            await self.error(
                "invalid_value", "audio is not base64.", param="audio", event=event
            )
            return
        self.record.appends += 1
        self.record.audio_in_bytes += len(chunk)
        self.buffered_ms += len(chunk) // BYTES_PER_MS
        self.input_audio_ms += len(chunk) // BYTES_PER_MS
        boundary = self.vad.feed(chunk)
        if boundary is None:
            return
        if boundary.kind == "started":
            await self._speech_started(boundary.audio_ms)
        elif self.config.vad_delay_ms > 0:
            # The VAD's own processing time, on top of the silence it waits for.
            task = asyncio.create_task(self._late_speech_stopped(boundary.audio_ms))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            await self._speech_stopped(boundary.audio_ms)

    async def _late_speech_stopped(self, audio_end_ms: int) -> None:
        await self.sleep_ms(self.config.vad_delay_ms)
        await self._speech_stopped(audio_end_ms)

    async def _speech_started(self, audio_start_ms: int) -> None:
        self.turn_item_id = new_id("item")
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": self.turn_item_id,
            }
        )
        td = self.turn_detection or {}
        if self.response is not None and td.get("interrupt_response", True):
            await self.response.cancel("turn_detected")

    async def _speech_stopped(self, audio_end_ms: int) -> None:
        item_id = self.turn_item_id or new_id("item")
        await self.send(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": audio_end_ms,
                "item_id": item_id,
            }
        )
        await self._commit(item_id)
        create = (self.turn_detection or {}).get("create_response", True)
        if create and not await self._call_tool_if_due():
            await self._start_response(self._next_answer(), scripted=True)

    async def _commit(self, item_id: str) -> None:
        previous = self.last_item_id
        await self.send(
            {
                "type": "input_audio_buffer.committed",
                "item_id": item_id,
                "previous_item_id": previous,
            }
        )
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
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
        self.last_item_id = item_id
        self.user_items.add(item_id)
        self.buffered_ms = 0
        self.turn_item_id = None
        lines = self.config.caller_lines or ["(inaudible)"]
        line = lines[self.caller_turns % len(lines)]
        self.caller_turns += 1
        if self.session["audio"]["input"].get("transcription"):
            self._spawn(self._transcribe(item_id, line))

    async def _transcribe(self, item_id: str, line: str) -> None:
        await self.sleep_ms(self.config.transcription_delay_ms)
        self.record.caller_transcripts.append(line)
        words = len(line.split())
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": line,
                "usage": {
                    "type": "tokens",
                    "input_tokens": 20 + words * 3,
                    "output_tokens": words + 2,
                    "total_tokens": 22 + words * 4,
                },
            }
        )

    async def on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        if self.buffered_ms < 100:
            await self.error(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at "
                f"least 100ms of audio, but buffer only has {self.buffered_ms}ms.",
                event=event,
            )
            return
        self.vad.reset()
        await self._commit(self.turn_item_id or new_id("item"))

    async def on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self.vad.reset()
        self.buffered_ms = 0
        await self.send({"type": "input_audio_buffer.cleared"})

    # Responses.

    def _next_answer(self) -> str:
        answers = self.config.answers or ["Okay."]
        return answers[self.answers_given % len(answers)]

    async def _start_response(self, text: str, *, scripted: bool) -> None:
        if self.response is not None:
            await self.response.cancel("turn_detected")
        if scripted:
            self.answers_given += 1
        self.response = ResponseRun(self, text)
        self.record.answers.append(text)
        self.response.start()

    async def _call_tool_if_due(self) -> bool:
        """Answer this caller turn with the scripted function call due, if any."""
        due = [c for c in self.config.tool_calls if c.after_turn == self.caller_turns]
        if not due:
            return False
        if self.response is not None:
            await self.response.cancel("turn_detected")
        self.response = FunctionCallRun(self, due[0])
        self.response.start()
        return True

    def response_finished(self, run: AudioItem) -> None:
        if self.response is run:
            self.response = None

    async def on_response_create(self, event: dict[str, Any]) -> None:
        if self.response is not None:
            await self.error(
                "conversation_already_has_active_response",
                "Conversation already has an active response in progress: "
                f"{self.response.id}. Wait until the response is finished before "
                "creating a new one.",
                event=event,
            )
            return
        params = event.get("response") or {}
        instructions = params.get("instructions") if isinstance(params, dict) else None
        # Quoted instructions (e.g. a filler line) are said as asked; otherwise a
        # tool's output comes first: the model was asked to speak its result.
        text = quoted_text(instructions or "")
        if text is None and self.pending_tool_output is not None:
            text = spoken_tool_output(self.pending_tool_output)
            self.pending_tool_output = None
        text = text or self.quoted_request
        self.quoted_request = None
        if text is None and (instructions or not self.caller_turns):
            text = self.config.greeting
        if text is None:
            await self._start_response(self._next_answer(), scripted=True)
        else:
            await self._start_response(text, scripted=False)

    async def on_response_cancel(self, event: dict[str, Any]) -> None:
        if self.response is None:
            await self.error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                event=event,
            )
            return
        await self.response.cancel("client_cancelled")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
