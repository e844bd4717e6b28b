"""A call's recording while it runs: the tap the call state feeds, the writer
task that flushes it to the spool every few seconds, and the final save.

The call state calls the tap on the audio path; the tap only appends to the
``Timeline``'s lists. ``run`` (a runner task) drains them every
``flush_seconds`` and writes them in a worker thread; ``finish`` (at the end of
the call, after the call's own writes) writes the rest, builds the WAV and
saves it through ``calls.services.recordings.recording_save`` (Django's storage API).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path

from channels.db import database_sync_to_async as db

from calls.recording.timeline import Timeline
from calls.recording.writer import MULAW, RecordingFile, SpoolWriter, wav_frames
from calls.services.lifecycle import call_note_error
from calls.services.recordings import recording_read, recording_save

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0


def now_ms() -> int:
    """The runner's clock (``calls.runtime.runner.now_ms``), for the clear."""
    return time.monotonic_ns() // 1_000_000


class CallRecording:
    def __init__(
        self,
        call_sid: str,
        spool_dir: Path,
        *,
        codec: str = MULAW,
        offset_ms: int = 0,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.call_sid = call_sid
        self.timeline = Timeline(offset_ms)
        self.writer = SpoolWriter(spool_dir, call_sid, codec)
        self.flush_seconds = flush_seconds
        self.result: RecordingFile | None = None
        self.saved = False

    # -- the tap (``calls.runtime.call_audio.RecordingTap``): appends only ----

    def stream_started(self, now_ms: int) -> None:
        self.timeline.stream_started(now_ms)

    def caller_audio(self, payload: str, timestamp: str) -> None:
        self.timeline.caller.append((timestamp, payload))

    def assistant_audio(
        self, item_id: str, end_ms: int, payload: str, now_ms: int
    ) -> None:
        self.timeline.assistant_audio(item_id, end_ms, payload, now_ms)

    def assistant_heard(self, item_id: str, heard_ms: int, now_ms: int) -> None:
        self.timeline.assistant_heard(item_id, heard_ms, now_ms)

    def assistant_cleared(self) -> None:
        self.timeline.assistant_cleared(now_ms())

    # -- off the audio path ---------------------------------------------------

    async def flush(self) -> None:
        writes = self.timeline.drain()
        if writes:
            await asyncio.to_thread(self.writer.write, writes)

    async def _before(self) -> tuple[bytes, int]:
        """A later stream: the recording so far, and how many sample frames of
        it come before this stream's audio."""
        keep = self.timeline.offset
        if not keep:
            return b"", 0
        found = wav_frames(await db(recording_read)(call_sid=self.call_sid))
        if found is None or found[1] != self.writer.codec:
            return b"", keep  # nothing usable: silence before this stream
        return found[0], keep

    async def run(self) -> None:
        """The writer task: flush every ``flush_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except Exception:
                logger.exception("call %s: recording flush failed", self.call_sid)

    async def finish(self, end_ms: int | None = None) -> RecordingFile | None:
        """The call ended: the last audio, the WAV, the storage, the row."""
        if self.timeline.started_ms is None:  # the stream never started: no audio
            await asyncio.to_thread(self.writer.discard)
            return None
        try:
            length = self.timeline.finish(now_ms() if end_ms is None else end_ms)
            await self.flush()
            before, keep = await self._before()
            self.result = await asyncio.to_thread(
                functools.partial(self.writer.finish, length, before=before, keep=keep)
            )
            result = self.result
            await db(recording_save)(
                call_sid=self.call_sid,
                path=str(result.path),
                format=result.format,
                channels=result.channels,
                sample_rate=result.sample_rate,
                duration_ms=result.duration_ms,
                size_bytes=result.size_bytes,
                sha256=result.sha256,
            )
        except Exception as exc:
            # The spool (or WAV) stays on disk for a person to recover.
            logger.exception("call %s: recording not saved", self.call_sid)
            await self._note_not_saved(exc)
            return None
        self.saved = True
        result.path.unlink(missing_ok=True)
        return result

    async def _note_not_saved(self, exc: BaseException) -> None:
        """The call's error says why it has no recording (the cause was only in
        the server log)."""
        detail = f"{type(exc).__name__}: {exc}"[:200]
        note = (
            f"The recording was not saved: the recordings storage failed ({detail}); "
            "its audio stays on this server for manage.py recover_recordings."
        )
        try:
            await db(call_note_error)(call_sid=self.call_sid, note=note)
        except Exception:
            logger.exception(
                "call %s: could not note the lost recording", self.call_sid
            )
