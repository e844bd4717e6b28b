"""The recording player in headless Chromium: it plays the (mu-law) WAV
through the Range-serving view, and clicking a transcript turn seeks to it.

Skipped when /usr/bin/chromium is absent, like the other browser tests."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import FileSystemStorage

from calls.models import Recording, RecordingAccess
from calls.recording.timeline import Timeline
from calls.recording.writer import SpoolWriter
from calls.services.recordings import recording_save
from calls.tests.support.browser import DESKTOP, log_in, shoot
from calls.tests.support.review_helpers import CONVERSATION, make_call

SECONDS = 20


def tone_wav(directory: Path) -> Path:
    """SECONDS of a loud square wave on the caller's side, the assistant silent
    but for a second at 5 s: a real stereo mu-law WAV from the writer."""
    timeline = Timeline()
    timeline.stream_started(0)
    frame = base64.b64encode(bytes([0x10, 0x10, 0x90, 0x90] * 40)).decode()
    for index in range(SECONDS * 50):
        timeline.caller_audio(frame, str(index * 20))
    for index in range(50):
        timeline.assistant_audio("a", (index + 1) * 20, frame, 4000)
    timeline.assistant_heard("a", 1000, 6000)
    writer = SpoolWriter(directory, "tone")
    writer.write(timeline.drain())
    return writer.finish(timeline.finish(SECONDS * 1000)).path


@pytest.fixture
def recorded_call(
    assistant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    field = Recording._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(tmp_path / "media"))
    call = make_call(assistant=assistant, entries=CONVERSATION)
    path = tone_wav(tmp_path)
    recording_save(
        call_sid=call.call_sid,
        path=str(path),
        format="wav-mulaw",
        channels=2,
        sample_rate=8000,
        duration_ms=SECONDS * 1000,
        size_bytes=path.stat().st_size,
        sha256="",
    )
    return call


def test_it_plays_the_recording_and_seeks_from_the_transcript(
    live_server: Any,
    browser: Any,
    staff_user: Any,
    recorded_call: Any,
) -> None:
    staff_user.user_permissions.add(Permission.objects.get(codename="listen_recording"))
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url, recorded_call.get_absolute_url())
    audio = page.locator("#recording-audio")
    assert audio.count() == 1
    assert page.locator("#recording-levels rect.level-caller").count() == 200

    # The third turn is at 5 s (make_call: 2.5 s a turn): clicking it seeks and plays.
    row = page.locator("#transcript li[data-offset-ms='5000']")
    row.locator(".turn-text").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('recording-audio');"
        " return !a.paused && a.currentTime > 5.05; }",
        timeout=10_000,
    )
    assert "playing" in (row.get_attribute("class") or "")
    assert page.locator("#transcript li.playing").count() == 1
    page.select_option("#recording-speed", "2")
    assert page.evaluate("document.getElementById('recording-audio').playbackRate") == 2
    shoot(page, "call-detail-recording-desktop")
    # The browser fetched the audio through the view, with ranges, each logged.
    assert RecordingAccess.objects.filter(username="staff").exists()


def test_it_hides_the_player_without_the_permission(
    live_server: Any,
    browser: Any,
    staff_user: Any,
    recorded_call: Any,
) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url, recorded_call.get_absolute_url())
    assert page.locator("#recording-audio").count() == 0
    assert page.get_by_text("needs the calls.listen_recording permission").is_visible()
