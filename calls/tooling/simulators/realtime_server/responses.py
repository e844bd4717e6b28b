"""One simulated model response: the GA event sequence, paced audio, cancellation.

A response speaks a given text: after the configured first-audio delay it streams
speech-like audio (``ms_per_char`` per character, capped) in ``chunk_ms`` deltas
faster than real time, with transcript deltas in step, then the closing events and
``response.done`` with GA-shaped usage. Cancelling it (barge-in or response.cancel)
stops the audio and closes the item as incomplete with the partial transcript.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from typing import Any

from calls.tooling.simulators.audio import BYTES_PER_MS, pcm16_from_mulaw, speech_loop
from calls.tooling.simulators.realtime_server.base import new_id
from calls.tooling.simulators.realtime_server.contracts import ResponseHost
from calls.tooling.simulators.realtime_server.usage import usage_for

logger = logging.getLogger(__name__)

ANSWER_PITCH_HZ = 210.0
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]|(?:^|[\s:])'(.+)'")
# "stop talking:" ends the server's "Say exactly this to the caller, then stop
# talking: <message>" (goodbyes, transfer messages, reprompts).
_SAYING = re.compile(
    r"\b(?:say(?:ing)?|stop talking)\s*:\s*(.+)", re.IGNORECASE | re.DOTALL
)


def quoted_text(instructions: str) -> str | None:
    """The greeting to say verbatim in ``instructions``, if it names one.

    Quoted text wins ("Greet the caller: 'Hello!'"); otherwise whatever follows
    "say:", "saying:" or "stop talking:" ("Greet the caller by saying: Hello!").
    """
    match = _QUOTED.search(instructions or "")
    if match:
        return (match.group(1) or match.group(2) or "").strip() or None
    match = _SAYING.search(instructions or "")
    return match.group(1).strip() or None if match else None


def answer_audio(text: str, *, ms_per_char: int, max_ms: int) -> bytes:
    """Mu-law audio standing in for ``text`` spoken: a slice of a cached signal."""
    duration = min(max(len(text) * ms_per_char, 200), max_ms)
    loop = speech_loop(ANSWER_PITCH_HZ)
    needed = duration * BYTES_PER_MS
    return (loop * (needed // len(loop) + 1))[:needed]


class ResponseRun:
    def __init__(self, conn: ResponseHost, text: str) -> None:
        self.conn = conn
        self.text = text
        self.id = new_id("resp")
        self.item_id = new_id("item")
        self.audio_ms = 0  # generated (sent) so far
        self.words_sent = 0
        self.words = text.split()
        self.task: asyncio.Task[None] | None = None
        self.finished = False

    @property
    def active(self) -> bool:
        return not self.finished

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"sim-{self.id}")

    async def _run(self) -> None:
        try:
            await self._open()
            await self.conn.sleep_ms(self.conn.config.first_audio_delay_ms)
            await self._stream_audio()
            await self._close("completed", None)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("simulated response %s failed", self.id)

    async def cancel(self, reason: str) -> None:
        """Stop generating; the response ends ``cancelled`` with what was sent."""
        if self.finished:
            return
        self.finished = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self._close("cancelled", reason)

    def _item(self, status: str) -> dict[str, Any]:
        content = []
        if status != "in_progress":
            content = [{"type": "output_audio", "transcript": self.transcript}]
        return {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content,
        }

    @property
    def transcript(self) -> str:
        return " ".join(self.words[: self.words_sent])

    def _response(self, status: str, reason: str | None) -> dict[str, Any]:
        done = status != "in_progress"
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": ({"type": status, "reason": reason} if reason else None),
            "output": [self._item(self._item_status(status))] if done else [],
            "conversation_id": self.conn.conversation_id,
            "output_modalities": ["audio"],
            "max_output_tokens": "inf",
            "audio": {"output": dict(self.conn.session["audio"]["output"])},
            "usage": usage_for(self.conn, self) if done else None,
            "metadata": None,
        }

    @staticmethod
    def _item_status(status: str) -> str:
        return "completed" if status == "completed" else "incomplete"

    async def _open(self) -> None:
        send = self.conn.send
        ids = {"response_id": self.id, "output_index": 0}
        await send(
            {
                "type": "response.created",
                "response": self._response("in_progress", None),
            }
        )
        await send(
            {
                "type": "response.output_item.added",
                **ids,
                "item": self._item("in_progress"),
            }
        )
        await send(
            {
                "type": "conversation.item.added",
                "previous_item_id": self.conn.last_item_id,
                "item": self._item("in_progress"),
            }
        )
        self.conn.last_item_id = self.item_id
        self.conn.items[self.item_id] = self
        await send(
            {
                "type": "response.content_part.added",
                **ids,
                "item_id": self.item_id,
                "content_index": 0,
                "part": {"type": "audio", "transcript": ""},
            }
        )

    async def _stream_audio(self) -> None:
        config = self.conn.config
        audio = answer_audio(
            self.text, ms_per_char=config.ms_per_char, max_ms=config.max_answer_ms
        )
        total_ms = len(audio) // BYTES_PER_MS
        step = max(config.chunk_ms, 20) * BYTES_PER_MS
        pause_ms = (
            config.chunk_ms / config.realtime_factor if config.realtime_factor else 0
        )
        for offset in range(0, len(audio), step):
            chunk = audio[offset : offset + step]
            await self._send_delta(chunk)
            self.audio_ms += len(chunk) // BYTES_PER_MS
            await self._send_words(round(len(self.words) * self.audio_ms / total_ms))
            await self.conn.sleep_ms(pause_ms)

    async def _send_delta(self, chunk: bytes) -> None:
        if self.conn.output_format == "audio/pcm":
            chunk = pcm16_from_mulaw(chunk, rate_out=24000)
        self.conn.record.deltas_sent += 1
        self.conn.record.audio_out_bytes += len(chunk)
        await self.conn.send(
            {
                "type": "response.output_audio.delta",
                "response_id": self.id,
                "item_id": self.item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": base64.b64encode(chunk).decode(),
            }
        )

    async def _send_words(self, upto: int) -> None:
        if upto <= self.words_sent:
            return
        text = " ".join(self.words[self.words_sent : upto])
        prefix = " " if self.words_sent else ""
        self.words_sent = upto
        await self.conn.send(
            {
                "type": "response.output_audio_transcript.delta",
                "response_id": self.id,
                "item_id": self.item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": prefix + text,
            }
        )

    async def _close(self, status: str, reason: str | None) -> None:
        self.finished = True
        send = self.conn.send
        ids = {"response_id": self.id, "item_id": self.item_id, "output_index": 0}
        part = {"type": "audio", "transcript": self.transcript}
        if status == "completed":
            await send(
                {"type": "response.output_audio.done", **ids, "content_index": 0}
            )
        await send(
            {
                "type": "response.output_audio_transcript.done",
                **ids,
                "content_index": 0,
                "transcript": self.transcript,
            }
        )
        await send(
            {
                "type": "response.content_part.done",
                **ids,
                "content_index": 0,
                "part": part,
            }
        )
        item = self._item(self._item_status(status))
        await send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        await send(
            {"type": "conversation.item.done", "previous_item_id": None, "item": item}
        )
        self.conn.response_finished(self)
        await send(
            {"type": "response.done", "response": self._response(status, reason)}
        )
