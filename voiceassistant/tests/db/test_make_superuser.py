"""``make superuser`` works without a terminal, from DJANGO_SUPERUSER_*."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def make_superuser(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SUPERUSER_")
    }
    environment |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ENV_FILE": "/dev/null",
        "DEBUG": "true",
        **env,
    }
    return subprocess.run(
        ["make", "--no-print-directory", "superuser"],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def users(tmp_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        return connection.execute(
            "select username, is_superuser from auth_user"
        ).fetchall()


def test_it_creates_the_superuser_from_the_environment(tmp_path: Path) -> None:
    done = make_superuser(
        tmp_path,
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD="a long passphrase 123",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
    )
    assert done.returncode == 0, done.stderr
    assert users(tmp_path) == [("admin", 1)]


def test_without_a_terminal_or_variables_it_says_what_to_set(tmp_path: Path) -> None:
    done = make_superuser(tmp_path)
    assert done.returncode != 0
    assert "DJANGO_SUPERUSER_USERNAME" in done.stderr
