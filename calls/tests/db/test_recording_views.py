"""The recording view: who may play it, Range requests, every access logged;
``calls.services.recordings.recording_save`` through the recordings storage."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import FileSystemStorage

from calls.models import Recording, RecordingAccess
from calls.review.recording_views import parse_range
from calls.services.recordings import recording_save
from calls.tests.support.review_helpers import make_call

AUDIO = bytes(range(256)) * 40  # 10240 bytes standing in for a WAV


@pytest.fixture
def recorded(db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recording:
    # The field resolved STORAGES["recordings"] when the model was built.
    field = Recording._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(tmp_path / "media"))
    call = make_call()
    source = tmp_path / "rec.wav"
    source.write_bytes(AUDIO)
    recording = recording_save(
        call_sid=call.call_sid,
        path=str(source),
        format="wav-mulaw",
        channels=2,
        sample_rate=8000,
        duration_ms=640,
        size_bytes=len(AUDIO),
        sha256="ab" * 32,
    )
    assert recording is not None
    return recording


def url(recording: Recording) -> str:
    return f"/calls/{recording.call.call_sid}/recording.wav"


def listener(staff_user: Any) -> Any:
    staff_user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="calls", codename="listen_recording"
        )
    )
    return staff_user


def test_it_saves_the_file_through_the_recordings_storage(
    recorded: Recording, tmp_path: Path
) -> None:
    assert recorded.file.name.startswith("recordings/")
    assert (tmp_path / "media" / recorded.file.name).read_bytes() == AUDIO
    assert (recorded.size_bytes, recorded.duration_ms) == (len(AUDIO), 640)


def test_it_sends_anonymous_viewers_to_the_login_page(
    client: Any, recorded: Recording
) -> None:
    response = client.get(url(recorded))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not RecordingAccess.objects.exists()


def test_it_refuses_staff_without_the_recording_permission(
    staff_client: Any, recorded: Recording
) -> None:
    response = staff_client.get(url(recorded))
    assert response.status_code == 403
    assert b"calls.listen_recording" in response.content
    assert not RecordingAccess.objects.exists()


def test_it_serves_the_whole_file_and_logs_it(
    client: Any, staff_user: Any, recorded: Recording
) -> None:
    client.force_login(listener(staff_user))
    response = client.get(url(recorded))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == AUDIO
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    access = RecordingAccess.objects.get()
    assert (access.user, access.username, access.range) == (staff_user, "staff", "")


def test_it_answers_a_range_with_206_and_logs_the_range(
    client: Any, staff_user: Any, recorded: Recording
) -> None:
    client.force_login(listener(staff_user))
    response = client.get(url(recorded), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(AUDIO)}"
    assert response["Content-Length"] == "100"
    assert b"".join(response.streaming_content) == AUDIO[100:200]
    assert RecordingAccess.objects.get().range == "bytes=100-199"


def test_it_answers_an_unsatisfiable_range_with_416(
    client: Any, staff_user: Any, recorded: Recording
) -> None:
    client.force_login(listener(staff_user))
    response = client.get(url(recorded), HTTP_RANGE="bytes=999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(AUDIO)}"


def test_it_answers_410_when_the_rows_file_is_gone(
    client: Any, staff_user: Any, recorded: Recording, tmp_path: Path
) -> None:
    (tmp_path / "media" / recorded.file.name).unlink()  # storage lost, row kept
    client.force_login(listener(staff_user))
    for header in ({}, {"HTTP_RANGE": "bytes=0-99"}):
        response = client.get(url(recorded), **header)
        assert response.status_code == 410
        assert b"no longer in storage" in response.content
        assert not response.streaming
    assert not RecordingAccess.objects.exists()


def test_it_answers_503_when_the_storage_cannot_be_asked(
    client: Any,
    staff_user: Any,
    recorded: Recording,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(name: str) -> bool:
        raise ConnectionError("bucket unreachable")

    monkeypatch.setattr(recorded.file.storage, "exists", unreachable)
    client.force_login(listener(staff_user))
    response = client.get(url(recorded))
    assert response.status_code == 503
    assert b"cannot be reached" in response.content
    assert not RecordingAccess.objects.exists()


def test_it_parses_ranges() -> None:
    assert parse_range("bytes=0-", 100) == (0, 99)
    assert parse_range("bytes=10-2000", 100) == (10, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=0-1,5-6", 100) is None  # several: the whole file
    assert parse_range("bytes=200-", 100) == (-1, -1)


def test_it_links_the_recording_in_the_json_export(
    staff_client: Any, recorded: Recording
) -> None:
    call_sid = recorded.call.call_sid
    response = staff_client.get(f"/calls/{call_sid}/transcript.json")
    data = json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    call = data[0] if isinstance(data, list) else data
    assert call["recording"]["url"] == f"/calls/{call_sid}/recording.wav"
    assert call["recording"]["duration_ms"] == 640


def test_it_links_the_recording_on_the_admin_call_page(
    admin_client: Any, recorded: Recording
) -> None:
    response = admin_client.get(f"/admin/calls/call/{recorded.call.pk}/change/")
    assert response.status_code == 200
    assert (
        f'href="/calls/{recorded.call.call_sid}/recording.wav"'
        in response.content.decode()
    )


def test_it_shows_the_player_and_seekable_turns_on_the_call_page(
    client: Any, staff_user: Any, recorded: Recording
) -> None:
    client.force_login(listener(staff_user))
    page = client.get(recorded.call.get_absolute_url()).content.decode()
    assert 'id="recording-audio"' in page
    assert f'src="/calls/{recorded.call.call_sid}/recording.wav"' in page
    assert "calls/recording.js" in page
    # AUDIO is no WAV: no level bars rather than an error.
    assert 'id="recording-levels"' not in page


def test_it_refuses_a_recordings_bucket_without_boto3() -> None:
    # boto3 is an optional install (docs/configuration.md): say so at start-up.
    pytest.importorskip("storages")
    if importlib.util.find_spec("boto3") is not None:
        pytest.skip("boto3 is installed")
    env = {
        **os.environ,
        "RECORDINGS_S3_BUCKET": "calls",
        "DJANGO_SETTINGS_MODULE": "voiceassistant.settings",
        "ENV_FILE": "/dev/null",
    }
    # A system check refuses to start (one line naming the variable), rather
    # than a traceback from the storage backend.
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve().parents[3] / "manage.py"),
            "check",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "RECORDINGS_S3_BUCKET" in result.stderr
    assert "pip install django-storages==1.14.6 boto3" in result.stderr
    assert "Traceback" not in result.stderr
