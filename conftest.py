"""Fixtures shared by every app's tests.

Tests that need a real service use the ``redis_url`` fixture or the ``postgres``
marker: they run when the server answers, fail when it does not and ``CI=true``
(CI must not pass by skipping), and are skipped with the reason otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from voiceassistant.services_probe import redis_available

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_PUBLIC_BASE_URL = "https://voice.example.com"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
IN_CI = os.environ.get("CI") == "true"


def require_service(available: bool, what: str) -> None:
    """Skip (or, in CI, fail) a test whose service is not there."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not reachable")
    pytest.skip(f"{what} is not reachable on this machine")


# A test's level is its folder (<app>/tests/<level>/); the folders whose tests
# need servers or Chromium mark them, so none can be left unmarked.
FOLDER_MARKERS = {"e2e": "e2e", "browser": "browser"}


def level_of(path: Path) -> str:
    """``unit``, ``db``, ``e2e`` or ``browser``: the folder under ``tests``."""
    parts = path.parts
    if "tests" in parts and parts.index("tests") + 2 < len(parts):
        return parts[parts.index("tests") + 1]
    return ""


# The fixtures (pytest-django's and ours) through which a test reaches the database.
DATABASE_FIXTURES = {
    *("db", "transactional_db", "django_db_setup", "client", "async_client"),
    *("admin_client", "admin_user", "django_user_model", "live_server"),
}


def touches_the_database(item: Any) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(
        fixtures & DATABASE_FIXTURES
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    on_postgres = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    misplaced = []
    for item in items:
        level = level_of(Path(item.path))
        marker = FOLDER_MARKERS.get(level)
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))
        if level == "unit" and touches_the_database(item):
            misplaced.append(item.nodeid)
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="runs in the PostgreSQL pass (make test)")
            )
    if misplaced:
        raise pytest.UsageError(
            "unit tests touch no database; move these to the db level (tests/db/):\n  "
            + "\n  ".join(misplaced)
        )


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any) -> None:
    """Every test runs with signatures on and a known public origin."""
    settings.TWILIO_AUTH_TOKEN = TEST_AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.PUBLIC_BASE_URL = TEST_PUBLIC_BASE_URL
    settings.OPENAI_API_KEY = "sk-test"
    # Real hashing costs ~0.4 s per login fixture; security is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test process is not a server: its SIGTERM stays pytest's.
    settings.CALLS_END_ON_SIGTERM = False
    # The tests' webhook receivers listen on this machine; the tests of the
    # refusal set their own (empty) list.
    settings.WEBHOOK_ALLOW_INTERNAL = ["127.0.0.1/32", "::1/128", "localhost"]
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }

    # The process-wide greeting cache must not carry one test's greeting into
    # the next (a hit changes what a call sends); its own tests use their own.
    from calls.runtime.assembly import GREETINGS

    GREETINGS.clear()


@pytest.fixture
def redis_url() -> Iterator[str]:
    require_service(redis_available(TEST_REDIS_URL), f"Redis at {TEST_REDIS_URL}")
    yield TEST_REDIS_URL


@pytest.fixture
def assistant(db: Any) -> Any:
    from assistants.models import Assistant

    return Assistant.objects.create(
        name="Front desk",
        instructions="You answer the phone for ACME Dental. Be brief.",
        greeting="Thanks for calling ACME Dental, how can I help?",
        voice="marin",
    )


@pytest.fixture
def other_assistant(db: Any) -> Any:
    from assistants.models import Assistant

    return Assistant.objects.create(
        name="After hours",
        instructions="You take messages outside opening hours.",
        voice="cedar",
        turn_detection="semantic_vad",
        vad_eagerness="low",
    )


@pytest.fixture
def phone_number(assistant: Any) -> Any:
    from assistants.models import PhoneNumber

    return PhoneNumber.objects.create(
        number="+15550000001", label="Main line", assistant=assistant
    )


# What the call pages need (calls.review.permissions): the call log, transcripts,
# downloads and the live view; not full numbers, control or listening in.
STAFF_PERMISSIONS = ("view_call", "export_call", "view_live_call")


@pytest.fixture
def staff_user(db: Any, django_user_model: Any) -> Any:
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        username="staff", password="staff-pass-123", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="calls", codename__in=STAFF_PERMISSIONS
        )
    )
    return user


@pytest.fixture
def staff_client(client: Any, staff_user: Any) -> Any:
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client(django_user_model: Any, db: Any) -> Any:
    """A logged-in superuser, without pytest-django's slow password hashing; its
    own client, as pytest-django's is, so a test may hold it beside
    ``staff_client``."""
    from django.test import Client

    user = django_user_model.objects.create(
        username="admin", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(user)
    return client
