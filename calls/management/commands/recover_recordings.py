"""``manage.py recover_recordings``: save the recordings a crash left behind.

A call's recording is spooled to ``RECORDING_SPOOL_DIR`` while it runs and saved
when it ends (``calls.runtime.recording``). If the process died first, or the
storage refused the file, the spool (or the finished WAV) stays there. This
finishes and saves each one whose call has ended and whose files have not
changed for ``--idle`` seconds (so a call still running elsewhere is left alone).

    python manage.py recover_recordings            # save them
    python manage.py recover_recordings --dry-run  # list them
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.conf import app_settings
from calls.models import Call
from calls.recording.writer import SpoolWriter, spooled_calls, wav_frames
from calls.services.recordings import recording_save


class Command(BaseCommand):
    help = "Finish and save the call recordings a crashed process left spooled."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the recordings that would be saved; save nothing.",
        )
        parser.add_argument(
            "--idle",
            type=float,
            default=60.0,
            help="Leave spools changed in the last this many seconds alone (a call "
            "still running on another process). Default: 60.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = app_settings().recording_spool_dir
        saved = 0
        for call_sid in spooled_calls(directory):
            files = list(directory.glob(f"{call_sid}.*"))
            newest = max(path.stat().st_mtime for path in files)
            call = Call.objects.filter(call_sid=call_sid).first()
            if call is None or call.ended_at is None:
                continue
            if time.time() - newest < options["idle"]:
                continue
            if options["dry_run"]:
                self.stdout.write(f"would save the recording of {call_sid}")
                continue
            self._save(directory, call_sid)
            saved += 1
            self.stdout.write(f"saved the recording of {call_sid}")
        self.stdout.write(f"{saved} recording{'s' if saved != 1 else ''} saved")

    def _save(self, directory: Path, call_sid: str) -> None:
        wav = directory / f"{call_sid}.wav"
        spool = directory / f"{call_sid}.caller.raw"
        if spool.exists() or not wav.exists():  # a spool: finish it first
            writer = SpoolWriter(
                directory, call_sid, app_settings().recording_codec, resume=True
            )
            result = writer.finish(0)
            codec, path = result.codec, result.path
        else:  # finished, but the storage refused it
            found = wav_frames(wav.read_bytes())
            codec, path = (found[1] if found else "mulaw"), wav
        data = path.read_bytes()
        frame_size = 4 if codec == "pcm16" else 2
        found = wav_frames(data)
        frames = len(found[0]) // frame_size if found else 0
        recording_save(
            call_sid=call_sid,
            path=str(path),
            format=f"wav-{codec}",
            channels=2,
            sample_rate=8000,
            duration_ms=frames // 8,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        path.unlink(missing_ok=True)
