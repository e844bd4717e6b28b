"""calls.privacy.retention and manage.py purge_calls: what is past retention goes, the
rest stays, and running it twice changes nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from calls.models import Call, Recording, TranscriptEntry
from calls.privacy import retention
from calls.services.erasure import NOTE_MAX_LENGTH, note_appended
from calls.tests.support.retention_helpers import NOW, make_call, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def defaults(settings: Any) -> Any:
    settings.RECORDING_RETENTION_DAYS = 30
    settings.TRANSCRIPT_RETENTION_DAYS = 90
    return settings


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_calls", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_a_recording_past_the_global_default(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    old = make_call(days_old=31, assistant=assistant)
    recent = make_call(days_old=29, assistant=assistant)
    assert stored_files(storage) == {f"{old.call_sid}.wav", f"{recent.call_sid}.wav"}

    output = purge()

    assert stored_files(storage) == {f"{recent.call_sid}.wav"}
    assert list(Recording.objects.values_list("call_id", flat=True)) == [recent.pk]
    old.refresh_from_db()
    assert old.recording_purged_at == NOW
    assert old.purge_note == "recording deleted after 30 days on 2026-12-02"
    # Transcripts are kept for 90 days.
    assert TranscriptEntry.objects.filter(call=old).count() == 2
    assert old.transcript_purged_at is None
    assert f"deleted the recording of {old.call_sid}" in output
    assert "deleted 1 recording(s) and 0 transcript(s)" in output


def test_it_deletes_transcripts_past_retention_and_keeps_the_call(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    old = make_call(days_old=100, assistant=assistant, lines=3)
    recent = make_call(days_old=60, assistant=assistant, recording=False)

    purge()

    old.refresh_from_db()
    assert TranscriptEntry.objects.filter(call=old).count() == 0
    assert TranscriptEntry.objects.filter(call=recent).count() == 2
    assert old.transcript_purged_at == NOW
    assert old.purge_note == (
        "recording deleted after 30 days on 2026-12-02; "
        "transcript deleted after 90 days on 2026-12-02"
    )
    assert Call.objects.count() == 2  # the calls themselves stay


def test_it_uses_the_assistants_own_retention_over_the_default(
    storage: Any,
    defaults: Any,
    now: dt.datetime,
    assistant: Any,
    other_assistant: Any,
) -> None:
    assistant.recording_retention_days = 7
    assistant.transcript_retention_days = 400
    assistant.save()
    short = make_call(days_old=8, assistant=assistant)
    long_kept = make_call(days_old=100, assistant=assistant)
    default = make_call(days_old=8, assistant=other_assistant)

    purge()

    short.refresh_from_db()
    long_kept.refresh_from_db()
    assert short.purge_note == "recording deleted after 7 days on 2026-12-02"
    assert long_kept.purge_note == "recording deleted after 7 days on 2026-12-02"
    # 400 days for this assistant's transcripts, though the default is 90.
    assert TranscriptEntry.objects.filter(call=long_kept).count() == 2
    assert Recording.objects.filter(call=default).exists()  # 8 < 30 days


def test_it_applies_the_default_to_calls_without_an_assistant(
    storage: Any, defaults: Any, now: dt.datetime
) -> None:
    orphan = make_call(days_old=31, assistant=None)
    purge()
    assert not Recording.objects.filter(call=orphan).exists()


def test_it_keeps_everything_without_any_retention(
    storage: Any, settings: Any, now: dt.datetime, assistant: Any
) -> None:
    settings.RECORDING_RETENTION_DAYS = None
    settings.TRANSCRIPT_RETENTION_DAYS = None
    call = make_call(days_old=3650, assistant=assistant)

    assert "deleted 0 recording(s) and 0 transcript(s)" in purge()
    assert Recording.objects.filter(call=call).exists()
    assert TranscriptEntry.objects.filter(call=call).count() == 2


def test_it_is_idempotent(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    old = make_call(days_old=100, assistant=assistant)
    purge()
    old.refresh_from_db()
    note = old.purge_note

    assert "deleted 0 recording(s) and 0 transcript(s)" in purge()
    old.refresh_from_db()
    assert old.purge_note == note


def test_it_writes_nothing_on_a_dry_run(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    old = make_call(days_old=100, assistant=assistant, lines=3)

    output = purge("--dry-run")

    assert f"would delete the recording of {old.call_sid}" in output
    assert f"would delete the transcript of {old.call_sid}" in output
    assert "3 rows" in output
    assert "would delete 1 recording(s) and 1 transcript(s) (dry run)" in output
    assert stored_files(storage) == {f"{old.call_sid}.wav"}
    assert Recording.objects.count() == 1
    assert TranscriptEntry.objects.count() == 3
    old.refresh_from_db()
    assert (old.recording_purged_at, old.transcript_purged_at, old.purge_note) == (
        None,
        None,
        "",
    )


def test_it_keeps_the_row_when_the_file_cannot_be_deleted(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    old = make_call(days_old=31, assistant=assistant)
    with mock.patch.object(storage, "delete", side_effect=OSError("read-only")):
        report = retention.purge_due()

    assert [d.call_sid for d in report.failed] == [old.call_sid]
    assert Recording.objects.filter(call=old).exists()  # due again next run
    old.refresh_from_db()
    assert old.recording_purged_at is None


def test_it_fails_the_command_when_something_could_not_be_deleted(
    storage: Any, defaults: Any, now: dt.datetime, assistant: Any
) -> None:
    from django.core.management.base import CommandError

    make_call(days_old=31, assistant=assistant)
    with (
        mock.patch.object(storage, "delete", side_effect=OSError("read-only")),
        pytest.raises(CommandError, match="retried next run"),
    ):
        purge()


def test_it_keeps_the_purge_note_within_its_length() -> None:
    note = note_appended("x" * 290, "recording deleted after 30 days")
    assert len(note) == NOTE_MAX_LENGTH
