"""``manage.py recover_recordings``: save the recordings a crash left behind.

A call's recording is spooled to ``RECORDING_SPOOL_DIR`` while it runs and saved
when it ends (``calls.runtime.recording``). If the process died first, or the
storage refused the file, the spool (or the finished WAV) stays there. This
finishes and saves each one whose call has ended and whose files have not
changed for ``--idle`` seconds (so a call still running elsewhere is left alone).
A spool that holds no audio is removed, not saved; one of a call this database
does not know (a stream refused while it opened) is removed once idle; one that
cannot be read is reported and left for a person to look at, and the others are
still saved.

    python manage.py recover_recordings            # save them
    python manage.py recover_recordings --dry-run  # list them
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.conf import app_settings
from calls.models import Call
from calls.recording.writer import SpoolWriter, spooled_calls, wav_frames
from calls.services.recordings import recording_save

logger = logging.getLogger(__name__)


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
        dry_run = options["dry_run"]
        counts = {"saved": 0, "removed": 0, "failed": 0}
        for call_sid in spooled_calls(directory):
            files = list(directory.glob(f"{call_sid}.*"))
            try:
                newest = max(path.stat().st_mtime for path in files)
            except (OSError, ValueError):
                continue  # gone meanwhile (another run, or the call finished)
            if time.time() - newest < options["idle"]:
                continue
            call = Call.objects.filter(call_sid=call_sid).first()
            if call is not None and call.ended_at is None:
                continue
            if call is None:
                self._remove(files, f"{call_sid} (no such call)", dry_run)
                counts["removed"] += 1
                continue
            if dry_run:
                self.stdout.write(f"would save the recording of {call_sid}")
                counts["saved"] += 1
                continue
            try:
                outcome = self._save(directory, call_sid)
            except Exception as exc:  # one bad spool must not stop the others
                logger.exception("could not recover the recording of %s", call_sid)
                self.stderr.write(
                    f"could not save the recording of {call_sid} "
                    f"({type(exc).__name__}: {exc}); its files are left in place"
                )
                counts["failed"] += 1
                continue
            counts[outcome] += 1
            self.stdout.write(
                f"saved the recording of {call_sid}"
                if outcome == "saved"
                else f"removed the spool of {call_sid}: it holds no audio"
            )
        self.stdout.write(_summary(counts, dry_run=dry_run))

    def _remove(self, files: list[Path], what: str, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(f"would remove the spool of {what}")
            return
        for path in files:
            path.unlink(missing_ok=True)
        self.stdout.write(f"removed the spool of {what}")

    def _save(self, directory: Path, call_sid: str) -> str:
        """Finish and save one call's recording: "saved", or "removed" when it
        holds no audio. Raises when its files cannot be read."""
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
        if found is None:
            raise ValueError(f"{path.name} is not a readable WAV file")
        frames = len(found[0]) // frame_size
        if not frames:
            path.unlink(missing_ok=True)
            return "removed"
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
        return "saved"


def _summary(counts: dict[str, int], *, dry_run: bool) -> str:
    def n(count: int, what: str) -> str:
        return f"{count} {what}{'' if count == 1 else 's'}"

    if dry_run:
        return (
            f"Dry run: would save {n(counts['saved'], 'recording')} and remove "
            f"{n(counts['removed'], 'spool')}; nothing was changed"
        )
    saved, removed = n(counts["saved"], "recording"), n(counts["removed"], "spool")
    line = f"{saved} saved, {removed} removed"
    if counts["failed"]:
        line += f", {counts['failed']} could not be read (see above)"
    return line
