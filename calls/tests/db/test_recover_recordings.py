"""``recover_recordings`` saves what it can, removes what holds nothing, and
never stops at one bad spool."""

from __future__ import annotations

import base64
import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
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
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    field = Recording._meta.get_field("file")
    location = tmp_path / "stored"
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=str(location)))
    return location


@pytest.fixture
def spool(tmp_path: Path, settings: Any) -> Path:
    settings.RECORDING_SPOOL_DIR = str(tmp_path / "spool")
    return tmp_path / "spool"


def crashed_with_audio(spool: Path, call_sid: str) -> None:
    recording = CallRecording(call_sid, spool)
    recording.stream_started(0)
    recording.caller_audio(frame(3), "0")
    recording.writer.write(recording.timeline.drain())


def recover(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("recover_recordings", "--idle", "0", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_a_corrupt_wav_does_not_stop_the_others(spool: Path, storage: Path) -> None:
    # "CA0..." sorts first: it used to stop every later spool from being saved.
    bad, good = make_call(call_sid="CA" + "0" * 32), make_call(call_sid="CA" + "f" * 32)
    spool.mkdir(parents=True)
    (spool / f"{bad.call_sid}.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \x10\x00")
    crashed_with_audio(spool, good.call_sid)

    output = recover()

    assert f"could not save the recording of {bad.call_sid}" in output
    assert "1 recording saved" in output
    row = Recording.objects.get(call=good)
    assert wav_frames((storage / row.file.name).read_bytes()) is not None
    assert (spool / f"{bad.call_sid}.wav").exists()  # left for a person


def test_an_empty_spool_is_removed_not_saved(spool: Path, storage: Path) -> None:
    call = make_call()
    recording = CallRecording(call.call_sid, spool)
    recording.stream_started(0)
    recording.writer.write(recording.timeline.drain())

    output = recover()

    assert "holds no audio" in output
    assert not Recording.objects.exists()
    assert list(spool.glob(f"{call.call_sid}.*")) == []


def test_the_spool_of_an_unknown_call_is_removed_once_idle(spool: Path) -> None:
    crashed_with_audio(spool, "CA" + "7" * 32)
    old = time.time() - 3600
    for path in spool.iterdir():
        os.utime(path, (old, old))

    assert "would remove the spool" in recover("--dry-run")
    assert list(spool.iterdir())
    assert "removed the spool" in recover()
    assert list(spool.iterdir()) == []


def test_a_dry_run_says_it_saved_nothing(spool: Path, storage: Path) -> None:
    call = make_call()
    crashed_with_audio(spool, call.call_sid)
    output = recover("--dry-run")
    assert "would save the recording" in output
    assert "Dry run" in output and "nothing was changed" in output
    assert " saved" not in output.replace("would save", "")
    assert not Recording.objects.exists()
