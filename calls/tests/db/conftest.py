"""The database level: tests that read or write rows (SQLite here, PostgreSQL in
the second pass). Its fixtures: calls as the pages show them, and closing the
connections database_sync_to_async opened on its worker thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.storage import FileSystemStorage
from django.db import connections

from calls.models import Call, Recording
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call


@pytest.fixture
async def close_thread_connections() -> AsyncIterator[None]:
    """database_sync_to_async keeps a connection open in its worker thread
    (CONN_MAX_AGE on PostgreSQL), which would outlive the test and keep
    PostgreSQL from dropping the test database."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def call(assistant: Any) -> Call:
    """A finished call with its conversation and usage."""
    return make_call(assistant=assistant, entries=CONVERSATION, **USAGE)


@pytest.fixture
def live_call(assistant: Any) -> Call:
    """A call in progress, its first two turns written."""
    return make_call(assistant=assistant, live=True, entries=CONVERSATION[:2])


@pytest.fixture
def storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> FileSystemStorage:
    """Recordings saved under a temporary MEDIA_ROOT."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    # The field resolved STORAGES["recordings"] when the model was built.
    fs = FileSystemStorage(location=media)
    monkeypatch.setattr(Recording._meta.get_field("file"), "storage", fs)
    return fs
