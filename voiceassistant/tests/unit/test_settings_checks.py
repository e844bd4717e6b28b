"""Bad settings are reported by the system checks: one line each, and no start.

The cases of a mistyped environment run ``manage.py check`` in a process of its own
with an environment built here (the shell's settings variables and any ``.env``
left out), and read what it prints and how it exits, as an operator would.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calls.conf import app_settings
from voiceassistant import checks

ROOT = Path(__file__).resolve().parents[3]
OLD_NAMES = {
    "REALTIME_CONNECT_TIMEOUT",
    "REALTIME_CONNECT_ON_UPGRADE",
    "REALTIME_WS_CLIENT",
}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 30 + "-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "voice.example.com",
    "PUBLIC_BASE_URL": "https://voice.example.com",
    "TWILIO_AUTH_TOKEN": "t" * 32,
}


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def manage_check(**env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py check`` with the production settings above and ``env``."""
    return manage("check", **env)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ignored = documented_variables() | OLD_NAMES | {"DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in ignored}
    environment.update({"ENV_FILE": os.devnull, **PRODUCTION, **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def reported(result: subprocess.CompletedProcess[str], check_id: str) -> list[str]:
    """The lines of the output that carry ``check_id``."""
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if f"({check_id})" in line
    ]


# Several mistakes at once (one process): each must get its own line.
MISTAKES = {
    "DATABASE_URL": "postgres//nohost",
    "PRICE_INPUT_TEXT_PER_M": "cheap",
    "REDIS_URL": "localhost:6379",
    "RECORDING_CODEC": "mp3",
    "SECRET_KEY": "abc",
}
# CONN_MAX_AGE is read only for a database server; no host with DEBUG off.
SERVER_MISTAKES = {
    "DATABASE_URL": "postgres://voice@db.example.com/voice",
    "CONN_MAX_AGE": "abc",
    "ALLOWED_HOSTS": "",
}


@functools.cache
def checked(mistakes: tuple[tuple[str, str], ...]) -> subprocess.CompletedProcess[str]:
    return manage_check(**dict(mistakes))


@pytest.mark.parametrize(
    ("mistakes", "variable", "example"),
    [
        pytest.param(
            MISTAKES, "DATABASE_URL", "DATABASE_URL=postgres://", id="DATABASE_URL"
        ),
        pytest.param(
            MISTAKES,
            "PRICE_INPUT_TEXT_PER_M",
            "PRICE_INPUT_TEXT_PER_M=4",
            id="PRICE_INPUT_TEXT_PER_M",
        ),
        pytest.param(MISTAKES, "REDIS_URL", "REDIS_URL=redis://", id="REDIS_URL"),
        pytest.param(
            MISTAKES, "RECORDING_CODEC", "RECORDING_CODEC=mulaw", id="RECORDING_CODEC"
        ),
        pytest.param(MISTAKES, "SECRET_KEY", "SECRET_KEY=", id="SECRET_KEY"),
        pytest.param(
            SERVER_MISTAKES, "CONN_MAX_AGE", "CONN_MAX_AGE=60", id="CONN_MAX_AGE"
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_a_good_value(
    mistakes: dict[str, str], variable: str, example: str
) -> None:
    result = checked(tuple(mistakes.items()))

    assert result.returncode == 1, result.stdout + result.stderr
    lines = [
        line
        for line in reported(result, "voiceassistant.E001")
        if line.startswith(f"?: (voiceassistant.E001) {variable} is ")
    ]
    assert len(lines) == 1, result.stdout + result.stderr
    assert f"; for example {example}" in lines[0]
    assert "Traceback" not in result.stderr


def test_each_mistake_is_reported_once_and_nothing_more() -> None:
    lines = reported(checked(tuple(MISTAKES.items())), "voiceassistant.E001")

    named = [line.split(") ", 1)[1].split(" ", 1)[0] for line in lines]
    assert sorted(named) == sorted(MISTAKES)


def test_debug_off_without_allowed_hosts_refuses_to_start() -> None:
    result = checked(tuple(SERVER_MISTAKES.items()))

    assert result.returncode == 1
    (line,) = reported(result, "voiceassistant.E002")
    assert "ALLOWED_HOSTS is empty and DEBUG is off" in line
    # The example is the host of PUBLIC_BASE_URL.
    assert line.endswith("for example ALLOWED_HOSTS=voice.example.com")


@pytest.mark.parametrize(
    "command",
    [
        # The production server, before it hands over to uvicorn.
        ("serve", "--port", "8999"),
        # `make run` migrates first, so daphne never starts either.
        ("migrate", "--noinput"),
    ],
    ids=["serve", "migrate"],
)
def test_the_servers_refuse_to_start_with_a_bad_value(command: tuple[str, ...]) -> None:
    result = manage(*command, DATABASE_URL="postgres//nohost")

    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = reported(result, "voiceassistant.E001")
    assert "DATABASE_URL is 'postgres//nohost'" in line
    assert "Traceback" not in result.stderr


def test_old_names_still_work_and_are_warned_about() -> None:
    result = manage_check(
        REALTIME_CONNECT_TIMEOUT="3",
        REALTIME_WS_CLIENT="websockets",
        ENGINE_WS_CLIENT="auto",
        REALTIME_PROVIDER="azure",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    renamed = reported(result, "voiceassistant.W001")
    assert any(
        "REALTIME_CONNECT_TIMEOUT was renamed ENGINE_CONNECT_TIMEOUT" in line
        for line in renamed
    )
    assert any(
        "REALTIME_WS_CLIENT is ignored" in line and "ENGINE_WS_CLIENT" in line
        for line in renamed
    )
    (deprecated,) = reported(result, "voiceassistant.W002")
    assert "REALTIME_PROVIDER=azure is deprecated" in deprecated


def test_good_production_settings_pass() -> None:
    result = manage_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_checks_read_the_current_settings(settings: Any) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = []
    settings.PUBLIC_BASE_URL = ""
    (error,) = checks.check_allowed_hosts(None)
    assert error.id == "voiceassistant.E002"
    assert error.msg.endswith("ALLOWED_HOSTS=voice.example.com")
    settings.ALLOWED_HOSTS = ["voice.example.com"]
    assert checks.check_allowed_hosts(None) == []

    settings.REALTIME_PROVIDER = ""
    assert checks.check_realtime_provider(None) == []


def test_app_settings_follow_a_changed_setting(settings: Any) -> None:
    settings.ENGINE_CONNECT_TIMEOUT = 2.5
    assert app_settings().engine_connect_timeout == 2.5
    settings.ENGINE_CONNECT_TIMEOUT = 4
    assert app_settings().engine_connect_timeout == 4.0
    assert app_settings() is app_settings()  # read once until the next change


def test_daphne_is_installed_only_for_runserver_in_development() -> None:
    code = (
        "from django.conf import settings; print('daphne' in settings.INSTALLED_APPS)"
    )

    def installed(**env: str) -> str:
        ignored = documented_variables() | {"DJANGO_SETTINGS_MODULE"}
        environment = {k: v for k, v in os.environ.items() if k not in ignored}
        environment.update(ENV_FILE=os.devnull, **env)
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    assert installed(**PRODUCTION) == "False"
    assert installed(DEBUG="true") == "True"
