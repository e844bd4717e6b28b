"""Deleting what a call stored about its caller: a recording, a transcript, or all
of one caller's (``calls.privacy`` decides what is due and why).

The call row itself stays: its outcome, duration and cost keep the statistics
truthful, and ``recording_purged_at`` / ``transcript_purged_at`` / ``purge_note``
say what went and why. A recording's file goes first, through its storage, then
its row: a row whose file failed to delete is found again, a file without a row
would be an orphan nobody finds.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from calls.models import Call, ForgetRequest, Recording, TranscriptEntry

# Call.purge_note's max_length.
NOTE_MAX_LENGTH = 300


def note_appended(note: str, sentence: str) -> str:
    """``note`` with ``sentence`` added, within ``Call.purge_note``'s length."""
    combined = f"{note}; {sentence}" if note else sentence
    return combined[:NOTE_MAX_LENGTH]


def recording_erase(*, call_id: int, sentence: str, now: dt.datetime) -> bool:
    """Delete one call's recording (file, then row) and add ``sentence`` to its
    purge note; False if it is already gone."""
    recording = Recording.objects.filter(call_id=call_id).first()
    if recording is None:
        return False
    recording.file.delete(save=False)
    with transaction.atomic():
        recording.delete()
        _mark(call_id, sentence, recording_purged_at=now)
    return True


def transcript_erase(*, call_id: int, sentence: str, now: dt.datetime) -> int:
    """Delete one call's transcript rows and say so on the call; how many there
    were."""
    with transaction.atomic():
        deleted, _ = TranscriptEntry.objects.filter(call_id=call_id).delete()
        if deleted:
            _mark(call_id, sentence, transcript_purged_at=now)
    return deleted


def caller_erase(
    *,
    number: str,
    call_ids: list[int],
    number_masked: str,
    number_hash: str,
    requested_by: str,
    sentence: str,
    now: dt.datetime,
) -> ForgetRequest:
    """Delete the recordings (files first) and transcripts of ``call_ids``,
    blank ``number`` on those calls, and keep the ``ForgetRequest`` saying so.

    If a file cannot be deleted nothing is written: the request can be repeated.
    """
    recordings = list(Recording.objects.filter(call_id__in=call_ids))
    for recording in recordings:
        recording.file.delete(save=False)
    recorded = {r.call_id for r in recordings}
    transcribed = set(
        TranscriptEntry.objects.filter(call_id__in=call_ids).values_list(
            "call_id", flat=True
        )
    )
    with transaction.atomic():
        Recording.objects.filter(call_id__in=call_ids).delete()
        entries, _ = TranscriptEntry.objects.filter(call_id__in=call_ids).delete()
        for call in Call.objects.select_for_update().filter(id__in=call_ids):
            if call.id in recorded:
                call.recording_purged_at = now
            if call.id in transcribed:
                call.transcript_purged_at = now
            _blank(call, number, sentence)
        return ForgetRequest.objects.create(
            number_masked=number_masked,
            number_hash=number_hash,
            requested_by=requested_by,
            calls=len(call_ids),
            recordings=len(recordings),
            transcript_entries=entries,
        )


def _mark(call_id: int, sentence: str, **when: dt.datetime) -> None:
    call = Call.objects.select_for_update().get(pk=call_id)
    call.purge_note = note_appended(call.purge_note, sentence)
    for name, value in when.items():
        setattr(call, name, value)
    call.save(update_fields=["purge_note", *when])


def _blank(call: Call, number: str, sentence: str) -> None:
    if call.from_number == number:
        call.from_number = ""
    if call.to_number == number:
        call.to_number = ""
    call.purge_note = note_appended(call.purge_note, sentence)
    call.save(
        update_fields=[
            "from_number",
            "to_number",
            "recording_purged_at",
            "transcript_purged_at",
            "purge_note",
        ]
    )
