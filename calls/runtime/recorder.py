"""CallRecorder: one call's database and live-view writes, off the audio path.

The runner hands it the call state's bookkeeping actions (transcript rows,
latency, usage, the call starting); one writer task performs them in order
through ``calls.services`` and tells live viewers. The audio path only puts an
item on a queue. The end of a call is written directly (``record_end``,
``finish``), after the queue has drained.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async as db

from calls import services
from calls.callstate import actions as a
from calls.review import live_events

logger = logging.getLogger(__name__)

# How long the end of a call waits for queued database writes.
WRITER_DRAIN_SECONDS = 10.0

Write = a.SaveTranscript | a.SetLatency | a.AddUsage | a.CallStarted


class CallRecorder:
    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self._queue: asyncio.Queue[Write | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_all())

    def put(self, action: Write) -> None:
        self._queue.put_nowait(action)

    async def drain(self) -> None:
        """Let every queued write land (bounded), then stop the writer."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, WRITER_DRAIN_SECONDS)
        except TimeoutError:
            logger.error("call %s: transcript writes did not finish", self.call_sid)

    async def _write_all(self) -> None:
        while (action := await self._queue.get()) is not None:
            try:
                await self._write(action)
            except Exception:
                logger.exception(
                    "call %s: could not record %s", self.call_sid, type(action).__name__
                )

    async def _write(self, action: Write) -> None:
        sid = self.call_sid
        if isinstance(action, a.SaveTranscript):
            entry = await db(services.transcript_entry_add)(
                call_sid=sid, **action.kwargs()
            )
            await live_events.publish_transcript(sid, live_events.entry_payload(entry))
        elif isinstance(action, a.SetLatency):
            await db(services.transcript_entry_set_latency)(
                call_sid=sid, **action.kwargs()
            )
        elif isinstance(action, a.AddUsage):
            await db(services.call_add_usage)(call_sid=sid, usage=dict(action.usage))
        elif isinstance(action, a.CallStarted):
            call = await db(services.call_mark_started)(
                call_sid=sid, stream_sid=action.stream_sid
            )
            payload = live_events.call_payload(call)
            await live_events.publish_call(payload, state="started")

    async def heartbeat(self) -> None:
        try:
            await db(services.call_heartbeat)(call_sid=self.call_sid)
        except Exception:
            logger.exception("call %s: could not record a heartbeat", self.call_sid)

    async def record_end(self, end: a.EndCall) -> None:
        """Why the call is ending, written before the stream closes.

        Twilio fetches the ``<Connect action>`` as soon as the socket closes, and
        its answer (apologise, hang up, dial) depends on this: one quick UPDATE.
        """
        try:
            if end.ended_by or end.transfer_to:
                await db(services.call_record_control)(
                    call_sid=self.call_sid,
                    end_reason=end.reason,
                    ended_by=end.ended_by,
                    transfer_to=end.transfer_to,
                )
            else:
                await db(services.call_record_end_reason)(
                    call_sid=self.call_sid, end_reason=end.reason, error=end.error
                )
        except Exception:
            logger.exception("call %s: could not record the end reason", self.call_sid)

    async def finish(self, end: a.EndCall, bad_frames: int) -> None:
        """The call is over: finalise its row and tell live viewers."""
        try:
            call = await db(services.call_finish)(
                call_sid=self.call_sid,
                end_reason=end.reason,
                error=end.error,
                bad_frames=bad_frames,
            )
            if call is not None:
                payload = live_events.call_payload(call)
                await live_events.publish_call(payload, state="ended")
        except Exception:
            logger.exception("call %s: could not record the end", self.call_sid)
