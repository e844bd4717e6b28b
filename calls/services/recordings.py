"""A call's recording: its file, stored through ``STORAGES["recordings"]``, its
``Recording`` row, and the log of who played it."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.core.files import File

from calls.models import Call, Recording, RecordingAccess

logger = logging.getLogger(__name__)


def recording_save(
    *,
    call_sid: str,
    path: str,
    format: str,
    channels: int,
    sample_rate: int,
    duration_ms: int,
    size_bytes: int,
    sha256: str,
) -> Recording | None:
    """Store a finished recording file through ``STORAGES["recordings"]`` and
    its ``Recording`` row; a later stream of the same call replaces it. None if
    the call is unknown."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    recording = Recording.objects.filter(call=call).first() or Recording(call=call)
    old_name = recording.file.name if recording.pk else ""
    recording.format = format
    recording.channels = channels
    recording.sample_rate = sample_rate
    recording.duration_ms = duration_ms
    recording.size_bytes = size_bytes
    recording.sha256 = sha256
    with open(path, "rb") as f:
        recording.file.save(f"{call_sid}.wav", File(f), save=False)
    recording.save()
    if old_name and old_name != recording.file.name:
        recording.file.storage.delete(old_name)
    logger.info(
        "call %s: recording saved (%d ms, %d bytes)", call_sid, duration_ms, size_bytes
    )
    return recording


def recording_read(*, call_sid: str) -> bytes:
    """The call's recording file so far (b"" if none): a later stream of the
    call continues it."""
    recording = Recording.objects.filter(call__call_sid=call_sid).first()
    if recording is None or not recording.file:
        return b""
    with recording.file.open("rb") as f:
        data: bytes = f.read()
    return data


def recording_access_add(
    *, recording: Recording, user: User | None, username: str, range: str = ""
) -> RecordingAccess:
    """Log that ``username`` played or downloaded ``recording`` (``range``: the
    request's ``Range`` header, if any)."""
    return RecordingAccess.objects.create(
        recording=recording, user=user, username=username[:150], range=range[:100]
    )
