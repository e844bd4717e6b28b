"""One simulated GPT-Live session on one WebSocket.

Conversation mode: ``session.start`` first (checked: model, no unknown fields,
``audio/pcmu`` at 8000 Hz), then caller audio through the energy VAD (server
side, as GPT-Live decides turns itself); a caller turn gets timed input transcript
deltas (the first word while the caller is still speaking, the rest after) and
the next scripted answer, streamed at real-time pace with timed output transcript
deltas and continuous silence between answers. Speech during an answer stops it
(server-side interruption; the wire says nothing). ``session.instructions.append``
greets (or says goodbye), ``session.usage.updated`` reports cumulative seconds of
the session timeline (ms of input audio), ``response.create`` returns a nested
backend response with token usage, ``session.close`` answers ``session.closed``.
A caller turn with a scripted tool call (``config.tool_calls``) is delegated to
the backend instead (``delegation``); the ``response.create`` after its
``function_call_output`` continues with the output, which the model says.
Echo mode sends every appended chunk straight back (the benchmark).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from calls.tooling.simulators import audio
from calls.tooling.simulators.live_server.config import LiveConfig
from calls.tooling.simulators.live_server.delegation import ACKNOWLEDGEMENT, Delegations
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.responses import (
    answer_audio,
    quoted_text,
)
from calls.tooling.simulators.realtime_server.vad import EnergyVad

logger = logging.getLogger(__name__)

SESSION_FIELDS = frozenset(
    {
        "model",
        "instructions",
        "audio",
        "delegation",
        "input",
        "safety_identifier",
        "store",
        "triggers",
        "client",
    }
)
PCMU_8K = {"type": "audio/pcmu", "rate": 8000}
VAD = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
}
FIRST_WORD_MS = 300  # the caller's first fragment covers this much speech
WORDS_PER_FRAGMENT = 3
GOODBYE = "Thank you for calling. Goodbye!"
_NOT_WAITING = re.compile(r"[^.!?]*\bwait for the caller\b[^.!?]*[.!?]", re.I)


@dataclass
class Answer:
    text: str
    audio: bytes
    start_clock_ms: int  # session time its audio started
    fragments: list[tuple[int, str]] = field(default_factory=list)  # (offset ms, text)
    sent_bytes: int = 0
    interrupted: bool = False

    @property
    def done(self) -> bool:
        return self.interrupted or self.sent_bytes >= len(self.audio)


class LiveSession:
    def __init__(
        self, ws: ServerConnection, record: ConnectionRecord, config: LiveConfig
    ) -> None:
        self.ws = ws
        self.record = record
        self.config = config
        self.echo = config.mode == "echo"
        self.session_id = f"sess_live_{secrets.token_hex(6)}"
        self.started = False
        self.closed = False
        self.clock_ms = 0  # the session timeline: ms of input audio appended
        self.vad = EnergyVad(VAD)
        self.answer: Answer | None = None
        self.caller_turns = 0
        self.answers_given = 0
        self.speech_start_ms = 0
        self.caller_line = ""
        self._event_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._new_answer = asyncio.Event()  # starts an answer without a tick's wait
        self.delegations = Delegations(self.send, record)
        self.speech_pending = 0  # speak_later calls still in their think time

    # -- plumbing ----------------------------------------------------------------

    async def run(self) -> None:
        try:
            async for message in self.ws:
                await self.handle(message)
        except ConnectionClosed:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, event: dict[str, Any], *, record: bool = True) -> None:
        if "event_id" not in event and event["type"] != "session.output_audio.delta":
            event = {"type": event["type"], "event_id": self.event_id(), **event}
        if record:
            self.record.sent.append(event)
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(orjson.dumps(event).decode())

    def event_id(self) -> str:
        return f"event_{next(self._event_ids):04d}"

    async def error(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        event: dict[str, Any] | None = None,
    ) -> None:
        error: dict[str, Any] = {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
        }
        if param:
            error["param"] = param
        client_id = (event or {}).get("event_id")
        if isinstance(client_id, str):
            error["client_event_id"] = client_id
        await self.send({"type": "error", "error": error})

    async def handle(self, message: str | bytes) -> None:
        try:
            event = orjson.loads(message)
        except orjson.JSONDecodeError:
            await self.error("invalid_json", "The message is not valid JSON.")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.error("invalid_event", "Events need a type.")
            return
        kind = event["type"]
        if kind == "session.input_audio.append":
            await self.on_audio(event)
            return
        self.record.events.append(event)
        if self.closed:
            await self.error("session_closed", "The session is closing.", event=event)
            return
        if not self.started and kind != "session.start":
            self.record.warnings.append(f"{kind} before session.started")
            await self.error("invalid_event", "Send session.start first.", event=event)
            return
        handler = getattr(self, "on_" + kind.replace(".", "_"), None)
        if handler is None:
            await self.error(
                "invalid_event", f"Unknown event type {kind!r}.", event=event
            )
            return
        await handler(event)

    # -- session -------------------------------------------------------------------

    async def on_session_start(self, event: dict[str, Any]) -> None:
        if self.started:
            await self.error(
                "session_already_started", "The session has started.", event=event
            )
            return
        session = event.get("session")
        if not isinstance(session, dict):
            await self.error(
                "missing_required_parameter",
                "Missing required parameter: 'session'.",
                param="session",
                event=event,
            )
            return
        unknown = sorted(set(session) - SESSION_FIELDS)
        if unknown:
            await self.error(
                "unknown_parameter",
                f"Unknown parameter: 'session.{unknown[0]}'.",
                param=f"session.{unknown[0]}",
                event=event,
            )
            return
        if not isinstance(session.get("model"), str):
            await self.error(
                "missing_required_parameter",
                "Missing required parameter: 'session.model'.",
                param="session.model",
                event=event,
            )
            return
        if self.config.faults.reject_session_update:
            await self.error(
                "invalid_value",
                "Invalid session configuration (simulated).",
                param="session",
                event=event,
            )
            return
        fmt = (session.get("audio") or {}).get("format")
        if fmt != PCMU_8K:
            self.record.warnings.append(f"audio format {fmt!r} is not {PCMU_8K}")
        self.record.model = session["model"]
        self.record.session = session
        self.started = True
        snapshot = {
            "id": self.session_id,
            "expires_at": int(time.time()) + self.config.session_seconds,
            "status": "active",
            **session,
        }
        await self.send(
            {
                "type": "session.started",
                "client_event_id": event.get("event_id"),
                "session": snapshot,
            }
        )
        if not self.echo:
            self.spawn(self.output_pump())
            if self.config.usage_interval_s > 0:
                self.spawn(self.usage_pump())

    async def on_session_close(self, event: dict[str, Any]) -> None:
        await self.close_session("close_requested", event.get("event_id"))

    async def close_session(self, reason: str, client_event_id: Any = None) -> None:
        if self.closed:
            return
        self.closed = True
        closed: dict[str, Any] = {
            "type": "session.closed",
            "reason": reason,
            "usage": self.usage(),
            "session": {
                "id": self.session_id,
                "expires_at": int(time.time()),
                "model": self.record.model,
                "status": "active",
            },
        }
        if client_event_id is not None:
            closed["client_event_id"] = client_event_id
        await self.send(closed)
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close(1000, reason)

    def usage(self) -> dict[str, float]:
        return {"seconds": float(self.clock_ms // 1000)}

    async def usage_pump(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.config.usage_interval_s)
            await self.send(
                {
                    "type": "session.usage.updated",
                    "usage": self.usage(),
                    "context_window": {"usage_ratio": 0.01},
                }
            )

    # -- appends and context -------------------------------------------------------

    async def ack(self, event: dict[str, Any], kind: str) -> None:
        if "delegation_id" not in event:
            await self.error(
                "missing_required_parameter",
                "Missing required parameter: 'delegation_id'.",
                param="delegation_id",
                event=event,
            )
            return
        await self.send(
            {
                "type": kind,
                "client_event_id": event.get("event_id"),
                "start_ms": self.clock_ms,
                "end_ms": self.clock_ms + 200,
            }
        )

    async def on_session_instructions_append(self, event: dict[str, Any]) -> None:
        await self.ack(event, "session.instructions.appended")
        content = str(event.get("content") or "")
        # "... Do not wait for the caller ..." is how to speak, not what to say.
        content = _NOT_WAITING.sub("", content).strip()
        lower = content.lower()
        if "stop speaking" in lower:
            self.interrupt()
            return
        said = quoted_text(content) or content.partition("stop talking:")[2].strip()
        if "greet" in lower:
            self.spawn(self.speak_later(said or self.config.greeting))
        else:  # a goodbye or a message to say
            self.interrupt()
            self.spawn(self.speak_later(said or GOODBYE))

    async def on_session_thinking_append(self, event: dict[str, Any]) -> None:
        await self.ack(event, "session.thinking.appended")

    async def on_session_commentary_append(self, event: dict[str, Any]) -> None:
        await self.ack(event, "session.commentary.appended")

    async def on_response_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            await self.error(
                "missing_required_parameter", "Missing 'item'.", event=event
            )
            return
        if item.get("type") == "function_call_output":
            output = item.get("output")
            self.delegations.output(
                str(item.get("call_id")), "" if output is None else str(output)
            )

    async def on_response_create(self, event: dict[str, Any]) -> None:
        delegation = self.delegations.ready()
        if delegation is not None:
            # The backend continues with the tool's output; the voice model says it.
            text = await self.delegations.continuation(
                delegation, event.get("event_id")
            )
            self.spawn(self.speak_after_current(text))
            return
        response_id = f"resp_{secrets.token_hex(6)}"
        response = {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "model": "backend-simulated",
            "status": "completed",
            "output": [],
            "tools": [],
            "instructions": None,
            "parallel_tool_calls": False,
            "tool_choice": "auto",
            "usage": {
                "input_tokens": 120,
                "input_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 0},
                "output_tokens": 12,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 132,
            },
        }
        nested = {"type": "response.completed", "sequence_number": 1}
        await self.send(
            {
                "type": "response.event",
                "delegation_id": None,
                "client_event_id": event.get("event_id"),
                "event": {**nested, "response": response},
            }
        )

    async def on_session_input_audio_mute(self, event: dict[str, Any]) -> None:
        await self.send({"type": "session.input_audio.muted"})

    async def on_session_input_audio_unmute(self, event: dict[str, Any]) -> None:
        await self.send({"type": "session.input_audio.unmuted"})

    # -- caller audio and turns ------------------------------------------------------

    async def on_audio(self, event: dict[str, Any]) -> None:
        if not self.started or self.closed:
            self.record.warnings.append("input audio outside the session")
            return
        try:
            chunk = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, ValueError):
            await self.error("invalid_audio", "audio is not base64.", event=event)
            return
        self.record.appends += 1
        self.record.audio_in_bytes += len(chunk)
        self.clock_ms += len(chunk) // audio.BYTES_PER_MS
        if self.echo:
            self.record.deltas_sent += 1
            self.record.audio_out_bytes += len(chunk)
            await self.send(
                {"type": "session.output_audio.delta", "delta": event["audio"]},
                record=False,
            )
            return
        boundary = self.vad.feed(chunk)
        if boundary is None:
            return
        if boundary.kind == "started":
            self.caller_started(boundary.audio_ms)
        else:
            self.caller_stopped(boundary.audio_ms - self.vad.silence_ms)

    def caller_started(self, start_ms: int) -> None:
        self.interrupt()  # GPT-Live yields when talked over
        lines = self.config.caller_lines
        self.caller_line = lines[self.caller_turns % len(lines)] if lines else ""
        self.caller_turns += 1
        self.speech_start_ms = start_ms
        first, _, _ = self.caller_line.partition(" ")
        end = start_ms + FIRST_WORD_MS
        self.spawn(self.transcribe_later(first, start_ms, end))

    def caller_stopped(self, end_ms: int) -> None:
        _, _, rest = self.caller_line.partition(" ")
        start = self.speech_start_ms + FIRST_WORD_MS
        self.record.caller_transcripts.append(self.caller_line)
        self.spawn(self.transcribe_later(" " + rest if rest else "", start, end_ms))
        due = [c for c in self.config.tool_calls if c.after_turn == self.caller_turns]
        if due:
            # Delegate to the backend; say a short acknowledgement meanwhile.
            self.spawn(self.speak_later(ACKNOWLEDGEMENT))
            self.spawn(self.delegations.delegate(due[0], self.clock_ms))
            return
        answers = self.config.answers
        text = answers[self.answers_given % len(answers)] if answers else GOODBYE
        self.answers_given += 1
        self.spawn(self.speak_later(text))

    async def transcribe_later(self, text: str, start_ms: int, end_ms: int) -> None:
        await asyncio.sleep(self.config.transcription_delay_ms / 1000)
        if text:
            await self.send(
                {
                    "type": "session.input_transcript.delta",
                    "delta": text,
                    "start_ms": start_ms,
                    "end_ms": max(end_ms, start_ms + 20),
                }
            )

    # -- assistant output ------------------------------------------------------------

    async def speak_later(self, text: str) -> None:
        self.speech_pending += 1
        try:
            await asyncio.sleep(self.config.first_audio_delay_ms / 1000)
        finally:
            self.speech_pending -= 1
        if self.closed:
            return
        self.interrupt()
        sound = answer_audio(
            text, ms_per_char=self.config.ms_per_char, max_ms=self.config.max_answer_ms
        )  # a slice of a cached signal: no synthesis on the reply's path
        total_ms = audio.duration_ms(sound)
        answer = Answer(text, sound, self.clock_ms)
        words = text.split(" ")
        per = max(1, WORDS_PER_FRAGMENT)
        groups = [" ".join(words[i : i + per]) for i in range(0, len(words), per)]
        offset = 0
        for index, group in enumerate(groups):
            fragment = group if index == 0 else " " + group
            answer.fragments.append((offset, fragment))
            offset += total_ms * len(fragment) // max(1, len(text))
        self.record.answers.append(text)
        self.answer = answer
        self._new_answer.set()

    async def speak_after_current(self, text: str) -> None:
        """Say ``text`` once the answer playing now (the acknowledgement) ends."""

        def busy() -> bool:
            answer = self.answer
            return self.speech_pending > 0 or (answer is not None and not answer.done)

        # Polled: the output pump ends answers by position, with no event to wait on.
        while not self.closed and busy():  # noqa: ASYNC110
            await asyncio.sleep(self.config.chunk_ms / 1000 / 4)
        await self.speak_later(text)

    def interrupt(self) -> None:
        answer = self.answer
        if answer is None or answer.done:
            return
        answer.interrupted = True
        self.record.truncations.append(
            {
                "item_id": f"answer_{len(self.record.answers)}",
                "audio_end_ms": audio.duration_ms(answer.sent_bytes),
                "audio_ms": audio.duration_ms(answer.audio),
                "accepted": True,
                "server_side": True,
            }
        )

    async def output_pump(self) -> None:
        """Every ``chunk_ms``: the answer's next audio (and its transcript fragments
        as their audio starts), else silence; paced by ``realtime_factor``."""
        chunk_ms = max(10, self.config.chunk_ms)
        chunk_bytes = chunk_ms * audio.BYTES_PER_MS
        factor = self.config.realtime_factor
        interval = chunk_ms / 1000 / factor if factor > 0 else 0.0
        silence = base64.b64encode(audio.silence(chunk_ms)).decode()
        next_at = time.monotonic()
        while not self.closed:
            if self._new_answer.is_set():  # a new answer starts now, not next tick
                self._new_answer.clear()
                next_at = time.monotonic()
            answer = self.answer
            if answer is not None and not answer.done:
                offset_ms = audio.duration_ms(answer.sent_bytes)
                while answer.fragments and answer.fragments[0][0] <= offset_ms:
                    at, text = answer.fragments.pop(0)
                    start = answer.start_clock_ms + at
                    await self.send(
                        {
                            "type": "session.output_transcript.delta",
                            "delta": text,
                            "start_ms": start,
                            "end_ms": start + chunk_ms,
                        }
                    )
                piece = answer.audio[
                    answer.sent_bytes : answer.sent_bytes + chunk_bytes
                ]
                answer.sent_bytes += len(piece)
                payload = base64.b64encode(piece).decode()
            elif self.config.stream_silence:
                payload = silence
            else:
                payload = ""
            if payload:
                self.record.deltas_sent += 1
                self.record.audio_out_bytes += len(payload) * 3 // 4
                await self.send(
                    {"type": "session.output_audio.delta", "delta": payload},
                    record=False,
                )
            next_at += interval
            delay = max(0.0, next_at - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_answer.wait(), delay)
