"""Driving the staff pages in headless Chromium: the launch arguments, the
viewports, logging in and screenshots (to artifacts/screenshots/, git-ignored,
for a person to look at)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "staff-pass-123"  # conftest's staff_user


def log_in(page: Any, base_url: str, path: str) -> None:
    """Open ``path``, get sent to the login page, log in, land on ``path``."""
    page.goto(base_url + path)
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + path)


def fits_the_screen(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
    )


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def let_a_server_process_log_in(user: Any) -> None:
    """The test settings hash with MD5 for speed, which a server started in its
    own process does not accept: store the password with its real hasher."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "browsertest", 1000)
    user.save(update_fields=["password"])
