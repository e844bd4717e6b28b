"""A recorded call end to end: daphne + the Realtime simulator + simulated
Twilio, with the assistant's recording on. The WAV lands in the recordings
storage, as long as the call, the caller on the left, the assistant on the
right; the spool is gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calls.models import Recording
from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import Hook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def server(
    server_kind: str,
    django_db_setup: Any,
    django_db_blocker: Any,
    simulator: SimulatorThread,
    media: Path,
) -> Iterator[ServerProcess]:
    process = e2e.start_server(
        simulator.url,
        server=server_kind,
        MEDIA_ROOT=str(media),
        RECORDING_SPOOL_DIR=str(media / "spool"),
        RECORDING_FLUSH_SECONDS="0.5",
        MEDIA_MARK_INTERVAL_MS="0",
    )
    yield process
    process.stop()


def channel_energy(frames: bytes, which: int) -> int:
    """How many mu-law samples of one channel are not silence (0xFF/0x7F)."""
    return sum(1 for b in frames[which::2] if b not in (0xFF, 0x7F))


def test_it_records_both_sides_of_a_call(
    server: ServerProcess, media: Path, phone_number: Any
) -> None:
    assistant = phone_number.assistant
    assistant.recording_enabled = True
    assistant.save()
    report = e2e.run_call(e2e.caller_options(server))
    assert report.errors == [], (report.errors, server.log_tail())
    e2e.finished_call(report.call_sid)
    recording = _wait_for_recording(report.call_sid)

    path = media / recording.file.name
    assert path.exists()
    assert recording.format == "wav-mulaw"
    assert recording.size_bytes == path.stat().st_size
    # As long as the stream (the caller's own clock), within a few frames.
    assert abs(recording.duration_ms - report.duration_ms) < 500, (
        recording.duration_ms,
        report.duration_ms,
    )
    data = path.read_bytes()
    assert data[20:24] == b"\x07\x00\x02\x00"  # WAVE_FORMAT_MULAW, stereo
    frames = data[58:]
    assert len(frames) == recording.duration_ms * 16
    # Both sides spoke: the caller's speech and the greeting and answers heard.
    assert channel_energy(frames, 0) > 8000  # over a second of caller speech
    assert channel_energy(frames, 1) > 8000
    assert not list((media / "spool").glob("*"))


def _wait_for_recording(call_sid: str, timeout_s: float = 10.0) -> Recording:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        recording = Recording.objects.filter(call__call_sid=call_sid).first()
        if recording is not None:
            return recording
        time.sleep(0.1)
    raise AssertionError(f"no recording for {call_sid}")


def test_it_leaves_what_a_barge_in_cleared_out_of_the_recording(
    server: ServerProcess, simulator: SimulatorThread, media: Path, phone_number: Any
) -> None:
    assistant = phone_number.assistant
    assistant.recording_enabled = True
    assistant.save()
    config = simulator.simulator.config
    saved = (config.realtime_factor, config.ms_per_char)

    def long_answers() -> None:
        config.realtime_factor, config.ms_per_char = 1.0, 40

    script = e2e.quick_script(barge_in=True)
    script.insert(3, Hook(long_answers))
    try:
        report = e2e.run_call(e2e.caller_options(server, script=script))
    finally:
        config.realtime_factor, config.ms_per_char = saved
    assert report.errors == [], report.errors
    assert report.clears >= 1 and report.audio_bytes_cleared > 0
    e2e.finished_call(report.call_sid)
    recording = _wait_for_recording(report.call_sid)
    frames = (media / recording.file.name).read_bytes()[58:]
    heard = channel_energy(frames, 1)
    # The assistant's side holds what the caller heard (all but samples that are
    # silence in the audio itself), and none of what the clear flushed.
    assert heard <= report.audio_bytes_received - report.audio_bytes_cleared
    assert heard >= 0.9 * report.audio_bytes_played
