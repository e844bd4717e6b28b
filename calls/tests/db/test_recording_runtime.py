"""The runtime side of a recording: the writer task's flushes, the final save
through the recordings storage, and a later stream continuing the file."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async as db
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command

from calls.models import Recording
from calls.recording.writer import wav_frames
from calls.runtime.recording import CallRecording
from calls.tests.support.review_helpers import make_call

pytestmark = pytest.mark.django_db(transaction=True)


def frame(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 160).decode()


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recordings storage's folder, under the test's temporary one."""
    field = Recording._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(tmp_path / "media"))
    return tmp_path / "media"


async def test_it_flushes_to_the_spool_while_the_call_runs(tmp_path: Path) -> None:
    recording = CallRecording("CA1", tmp_path, flush_seconds=0.01)
    recording.stream_started(0)
    task = asyncio.create_task(recording.run())
    recording.caller_audio(frame(1), "0")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if (tmp_path / "CA1.caller.raw").stat().st_size:
            break
    task.cancel()
    assert (tmp_path / "CA1.caller.raw").read_bytes() == bytes([1]) * 160
    recording.writer.discard()


async def test_it_saves_the_recording_and_a_later_stream_continues_it(
    tmp_path: Path, media_dir: Path
) -> None:
    call = await db(make_call)()
    first = CallRecording(call.call_sid, tmp_path / "spool")
    first.stream_started(0)
    for index in range(50):  # one second of the caller
        first.caller_audio(frame(1), str(index * 20))
    assert (await first.finish(1000)) is not None
    row = await db(Recording.objects.get)(call=call)
    assert (row.duration_ms, row.channels, row.format) == (1000, 2, "wav-mulaw")
    assert row.size_bytes == (media_dir / row.file.name).stat().st_size == 58 + 16000
    assert len(row.sha256) == 64
    assert not list((tmp_path / "spool").glob("*"))  # spool and WAV cleaned up

    # The caller came back after a transfer: the second stream starts at 3 s.
    second = CallRecording(call.call_sid, tmp_path / "spool", offset_ms=3000)
    second.stream_started(50_000)  # its own clock: only the offset matters
    second.caller_audio(frame(2), "0")
    assert (await second.finish(51_000)) is not None
    row = await db(Recording.objects.get)(call=call)
    assert row.duration_ms == 4000
    found = wav_frames((media_dir / row.file.name).read_bytes())
    assert found is not None
    frames = found[0]
    assert frames[0:16000:2] == bytes([1]) * 8000  # the first stream, kept
    assert frames[16000:48000:2] == bytes([0xFF]) * 16000  # 1..3 s: transferred
    assert frames[48000:48320:2] == bytes([2]) * 160  # the second stream at 3 s
    # The old file was replaced, not left behind.
    assert len(list(media_dir.rglob("*.wav"))) == 1  # noqa: ASYNC240


async def test_it_never_fails_the_call_when_the_save_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = CallRecording("CA" + "9" * 32, tmp_path)  # no such call row
    recording.stream_started(0)

    def broken(**kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("calls.runtime.recording.recording_save", broken)
    assert await recording.finish(100) is None
    assert (tmp_path / f"{'CA' + '9' * 32}.wav").exists()  # left to recover


def test_it_recovers_a_spool_a_crashed_process_left(
    tmp_path: Path, media_dir: Path, settings: Any
) -> None:
    settings.RECORDING_SPOOL_DIR = str(tmp_path / "spool")
    ended = make_call()
    running = make_call(live=True)
    for call in (ended, running):
        recording = CallRecording(call.call_sid, tmp_path / "spool")
        recording.stream_started(0)
        recording.caller_audio(frame(3), "0")
        recording.writer.write(recording.timeline.drain())  # one flush, then a crash
    out = io.StringIO()
    call_command("recover_recordings", "--idle", "0", stdout=out)
    assert "1 recording saved" in out.getvalue()
    row = Recording.objects.get(call=ended)
    assert row.duration_ms == 20
    found = wav_frames((media_dir / row.file.name).read_bytes())
    assert found is not None and found[0][0:320:2] == bytes([3]) * 160
    assert not Recording.objects.filter(call=running).exists()  # still running
    assert list((tmp_path / "spool").glob(f"{ended.call_sid}.*")) == []


async def test_it_keeps_no_recording_of_a_stream_that_never_started(
    tmp_path: Path,
) -> None:
    recording = CallRecording("CA" + "8" * 32, tmp_path)
    assert await recording.finish(100) is None
    assert list(tmp_path.glob("*")) == []  # noqa: ASYNC240


class BrokenStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        raise PermissionError(13, "Permission denied", name)


async def test_a_storage_failure_is_said_on_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    field = Recording._meta.get_field("file")
    monkeypatch.setattr(field, "storage", BrokenStorage(tmp_path / "media"))
    call = await db(make_call)()
    recording = CallRecording(call.call_sid, tmp_path / "spool")
    recording.stream_started(0)
    recording.caller_audio(frame(1), "0")
    assert await recording.finish(100) is None
    await db(call.refresh_from_db)()
    assert "The recording was not saved: the recordings storage failed" in call.error
    assert "Permission denied" in call.error
    assert "recover_recordings" in call.error
