"""The browser level: headless Chromium, skipped when /usr/bin/chromium is absent
(a failure when CI=true). Every test here is marked ``browser``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calls.tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from conftest import require_service


def launch(monkeypatch: pytest.MonkeyPatch, *extra_args: str) -> Iterator[Any]:
    require_service(
        Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (apt package chromium)"
    )
    # Playwright's sync API keeps an event loop in this thread; the ORM calls made
    # by the test between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from launch(monkeypatch)


@pytest.fixture
def autoplay_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Chromium that plays audio without a click (the listen-in player)."""
    yield from launch(monkeypatch, "--autoplay-policy=no-user-gesture-required")
