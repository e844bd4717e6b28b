"""CallLogWriter: one call's database and live-view writes, off the audio path.

It writes the call's log (status, transcript rows, latency, usage, the end);
the audio recording is ``CallRecording``'s.

The runner hands it the call state's bookkeeping actions (transcript rows,
latency, usage, the call starting); one writer task performs them in order
through ``calls.services`` and tells live viewers. The audio path only puts an
item on a queue. The end of a call is written directly (``record_end``,
``finish``), after the queue has drained.

A database outage does not lose writes: a write that fails with a database error
is retried with backoff (the queue waits behind it, so order is kept) for up to
``RETRY_FOR_SECONDS``. Memory is bounded: at most ``MAX_QUEUED_WRITES`` wait. What
is given up (over the bound, or still queued when the call's end cannot wait any
longer) is counted by kind and, once the database answers again, recorded on the
call as a sentence in ``Call.error``. Log lines name the kind of write and the
error's class, never its text (which can quote the transcript) above DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from channels.db import database_sync_to_async as db
from django.db import DatabaseError

from calls.callstate import actions as a
from calls.privacy import redaction
from calls.runtime.bus import live_events
from calls.services.lifecycle import (
    call_finish,
    call_heartbeat,
    call_mark_started,
    call_note_error,
    call_record_end_reason,
)
from calls.services.routing import call_assistant_add
from calls.services.transcript import transcript_entry_add, transcript_entry_set_latency
from calls.services.transfer import call_record_control
from calls.services.usage import call_add_usage

logger = logging.getLogger(__name__)

# How long one write is retried through a database outage before it is given up.
RETRY_FOR_SECONDS = 60.0
FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 2.0
# A call writes a few rows a turn: this is minutes of an outage, a few hundred KB.
MAX_QUEUED_WRITES = 1000
# How long the end of a call waits for queued writes (longer than an outage the
# writer rides out, so a call ending mid-outage still lands its transcript).
WRITER_DRAIN_SECONDS = RETRY_FOR_SECONDS + 5.0

Write = (
    a.SaveTranscript
    | a.SetLatency
    | a.AddUsage
    | a.CallStarted
    | a.TranscriptDelta
    | a.AssistantJoined
)
T = TypeVar("T")

# What a lost write is called in the sentence recorded on the call.
KIND_NAMES = {
    "SaveTranscript": ("transcript turn", "transcript turns"),
    "SetLatency": ("latency figure", "latency figures"),
    "AddUsage": ("usage update", "usage updates"),
    "CallStarted": ("call start", "call starts"),
    "AssistantJoined": ("assistant change", "assistant changes"),
}


def lost_writes_sentence(lost: Counter[str]) -> str:
    """e.g. "3 writes lost during a database outage (2 transcript turns, 1 usage
    update)." """
    total = sum(lost.values())
    parts = []
    for kind, count in sorted(lost.items()):
        one, many = KIND_NAMES.get(kind, (kind, kind))
        parts.append(f"{count} {one if count == 1 else many}")
    noun = "write" if total == 1 else "writes"
    return f"{total} {noun} lost during a database outage ({', '.join(parts)})."


class CallLogWriter:
    def __init__(
        self,
        call_sid: str,
        *,
        redact: Callable[[], Iterable[str]] = tuple,
        stream: int = 1,
    ) -> None:
        self.call_sid = call_sid
        # Which of the call's streams this is: the end written is this stream's,
        # ignored if the call has gone on to a later one.
        self.stream = stream
        # The redaction kinds of the assistant on the call now (``redact()``),
        # applied to every transcript row before it is stored or shown live, so
        # nothing downstream sees the original.
        self._redact = redact
        self._redacting: frozenset[str] = frozenset()
        self._queue: asyncio.Queue[Write | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Given-up writes by kind, not yet recorded on the call.
        self.lost: Counter[str] = Counter()

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_all())

    def put(self, action: Write) -> None:
        if self._queue.qsize() >= MAX_QUEUED_WRITES:
            self._give_up(action, "the write queue is full")
            return
        self._queue.put_nowait(action)

    async def drain(self) -> None:
        """Let every queued write land (bounded), then stop the writer."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, WRITER_DRAIN_SECONDS)
        except TimeoutError:
            while not self._queue.empty():
                if (action := self._queue.get_nowait()) is not None:
                    self._give_up(action, "the call ended first")
            logger.error("call %s: transcript writes did not finish", self.call_sid)

    async def _write_all(self) -> None:
        while (action := await self._queue.get()) is not None:
            try:
                await self._retrying(type(action).__name__, lambda: self._write(action))
            except Exception as exc:
                self._give_up(action, type(exc).__name__, exc)
                continue
            if self.lost:
                await self._record_lost()

    async def _retrying(self, what: str, write: Callable[[], Awaitable[T]]) -> T:
        """``write()``, retried with backoff while the database is unreachable."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                return await write()
            except DatabaseError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning(
                    "call %s: %s write failed (%s); retrying in %.1f s",
                    self.call_sid,
                    what,
                    type(exc).__name__,
                    delay,
                )
                logger.debug(
                    "call %s: %s write failed", self.call_sid, what, exc_info=exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _give_up(self, action: Write, why: str, exc: Exception | None = None) -> None:
        kind = type(action).__name__
        self.lost[kind] += 1
        logger.error("call %s: gave up a %s write: %s", self.call_sid, kind, why)
        if exc is not None:
            logger.debug("call %s: %s write failed", self.call_sid, kind, exc_info=exc)

    async def _record_lost(self) -> None:
        """Say on the call what was lost, now that the database answers."""
        sentence = lost_writes_sentence(self.lost)
        try:
            await db(call_note_error)(call_sid=self.call_sid, note=sentence)
        except DatabaseError as exc:
            logger.warning(
                "call %s: could not record lost writes yet (%s)",
                self.call_sid,
                type(exc).__name__,
            )
            return
        logger.warning("call %s: %s", self.call_sid, sentence)
        self.lost.clear()

    async def _write(self, action: Write) -> None:
        sid = self.call_sid
        if isinstance(action, a.SaveTranscript):
            # Redacted in the database thread, not on the event loop: a tool
            # answer may be long, and the loop carries every call's audio.
            entry = await db(_add_redacted_entry)(
                call_sid=sid, row=action.kwargs(), kinds=self.redacting()
            )
            await live_events.publish_transcript(sid, live_events.entry_payload(entry))
        elif isinstance(action, a.TranscriptDelta):
            # Behind the rows in the same queue, so a turn's words never arrive
            # after its final row. With redaction on they are held back: a card
            # number can be split across deltas, and the row replaces them anyway.
            if not self.redacting():
                await live_events.publish_delta(sid, action.seq, action.text)
        elif isinstance(action, a.SetLatency):
            await db(transcript_entry_set_latency)(call_sid=sid, **action.kwargs())
        elif isinstance(action, a.AddUsage):
            await db(call_add_usage)(call_sid=sid, usage=dict(action.usage))
        elif isinstance(action, a.CallStarted):
            call = await db(call_mark_started)(
                call_sid=sid, stream_sid=action.stream_sid
            )
            payload = live_events.call_payload(call)
            await live_events.publish_call(payload, state="started")
        elif isinstance(action, a.AssistantJoined):
            await db(call_assistant_add)(call_sid=sid, **action.kwargs())

    def redacting(self) -> frozenset[str]:
        """The kinds redacted from now on. A handoff adds the new assistant's and
        drops none, so a row queued before it is not written unredacted after."""
        self._redacting |= frozenset(self._redact())
        return self._redacting

    async def heartbeat(self) -> None:
        try:
            await db(call_heartbeat)(call_sid=self.call_sid)
        except DatabaseError as exc:
            logger.warning(
                "call %s: could not record a heartbeat (%s)",
                self.call_sid,
                type(exc).__name__,
            )
        except Exception:
            logger.exception("call %s: could not record a heartbeat", self.call_sid)

    async def record_end(self, end: a.EndCall) -> None:
        """Why the call is ending, written before the stream closes.

        Twilio fetches the ``<Connect action>`` as soon as the socket closes, and
        its answer (apologise, hang up, dial) depends on this: one quick UPDATE.
        """
        try:
            if end.ended_by or end.transfer_to:
                await db(call_record_control)(
                    call_sid=self.call_sid,
                    end_reason=end.reason,
                    ended_by=end.ended_by,
                    transfer_to=end.transfer_to,
                    stream=self.stream,
                )
            else:
                await db(call_record_end_reason)(
                    call_sid=self.call_sid,
                    end_reason=end.reason,
                    error=end.error,
                    stream=self.stream,
                )
        except Exception:
            logger.exception("call %s: could not record the end reason", self.call_sid)

    async def finish(self, end: a.EndCall, bad_frames: int) -> None:
        """The call is over: finalise its row and tell live viewers."""
        try:
            call = await self._retrying(
                "call end",
                lambda: db(call_finish)(
                    call_sid=self.call_sid,
                    end_reason=end.reason,
                    error=end.error,
                    bad_frames=bad_frames,
                    stream=self.stream,
                ),
            )
            if self.lost:
                await self._record_lost()
            if call is not None:
                payload = live_events.call_payload(call)
                await live_events.publish_call(payload, state="ended")
        except DatabaseError as exc:
            logger.error(
                "call %s: could not record the end (%s)",
                self.call_sid,
                type(exc).__name__,
            )
        except Exception:
            logger.exception("call %s: could not record the end", self.call_sid)


def _add_redacted_entry(
    *, call_sid: str, row: dict[str, Any], kinds: frozenset[str]
) -> Any:
    """A transcript row written with the given kinds redacted from its text and
    tool arguments (run in a worker thread)."""
    if kinds:
        for field in ("text", "tool_arguments"):
            row[field] = redaction.redact(row[field], kinds)
    return transcript_entry_add(call_sid=call_sid, **row)
