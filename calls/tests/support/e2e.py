"""Harness for the end-to-end tests: daphne, the Realtime simulator, simulated calls.

daphne serves the project as a subprocess on a free 127.0.0.1 port, configured
through its environment to use the *test* database (so rows written with
``django_db(transaction=True)`` are shared both ways), the in-process Realtime
simulator (running on its own thread and loop), and the test Twilio credentials
from ``conftest``. ``place_call`` runs one simulated call and waits for the server
to finalise it.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.parse
from typing import Any

from django.db import connections

import conftest
from calls.models import Call
from calls.ops.servers import PRODUCTION_SERVER
from calls.tooling.simulators.local_server import DaphneProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    CallReport,
    Step,
    TwilioCaller,
    default_script,
)

SIM_API_KEY = "sk-simulated"
# Every server the project runs on: daphne (`make run`) and the production one
# (`manage.py serve`); the end-to-end tests run on both so neither can rot.
# E2E_SERVERS=granian,hypercorn runs them on candidates instead (README, Performance).
SERVERS = tuple(filter(None, os.environ.get("E2E_SERVERS", "").split(","))) or (
    "daphne",
    PRODUCTION_SERVER,
)
SECRET_KEY = "e2e-secret-key-not-for-production"


def database_url(alias: str = "default") -> str:
    """A DATABASE_URL for the test database pytest-django set up."""
    db = connections[alias].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(db["NAME"])
    user = urllib.parse.quote(db.get("USER") or "")
    password = urllib.parse.quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


def start_simulator(**overrides: Any) -> SimulatorThread:
    """The Realtime simulator on a background thread, quick but realistic enough."""
    defaults: dict[str, Any] = {
        "api_key": SIM_API_KEY,
        "first_audio_delay_ms": 150,
        "transcription_delay_ms": 50,
        "realtime_factor": 3.0,
        "ms_per_char": 15,
    }
    thread = SimulatorThread(**{**defaults, **overrides})
    thread.start()
    return thread


def start_daphne(
    realtime_url: str, *, server: str = "daphne", **env: str
) -> DaphneProcess:
    """A server (daphne by default) on the test database, the simulator and the
    test Twilio settings."""
    environment = {
        "DJANGO_SETTINGS_MODULE": "voiceassistant.settings",
        "DATABASE_URL": database_url(),
        "DEBUG": "true",
        "SECRET_KEY": SECRET_KEY,
        "REDIS_URL": "",
        "TWILIO_AUTH_TOKEN": conftest.TEST_AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "PUBLIC_BASE_URL": conftest.TEST_PUBLIC_BASE_URL,
        "OPENAI_API_KEY": SIM_API_KEY,
        "OPENAI_REALTIME_URL": realtime_url,
        "REALTIME_PROVIDER": "openai",
        "REALTIME_CONNECT_TIMEOUT": "5",
        "LOG_LEVEL": "INFO",
        **env,
    }
    return DaphneProcess(environment, server=server).start()


def quick_script(*, turns: int = 2, barge_in: bool = False) -> list[Step]:
    """The default call, with shorter speech and pauses."""
    return default_script(turns=turns, barge_in=barge_in, speech_ms=800, quiet_ms=300)


def caller_options(server: DaphneProcess, **kwargs: Any) -> CallerOptions:
    kwargs.setdefault("script", quick_script())
    # No status callback: the stream's own end is what these tests check, and the
    # callback (tested with the webhooks) would race it to finalise the call.
    kwargs.setdefault("status_path", "")
    return CallerOptions(
        base_url=server.base_url,
        public_url=conftest.TEST_PUBLIC_BASE_URL,
        auth_token=conftest.TEST_AUTH_TOKEN,
        to_number="+15550000001",  # conftest's phone_number fixture
        **kwargs,
    )


def run_call(options: CallerOptions) -> CallReport:
    """Place one call (from synchronous test code) and return the caller's report."""
    return asyncio.run(TwilioCaller(options).run())


def finished_call(call_sid: str, timeout_s: float = 10.0) -> Call:
    """The call's row once the server has finalised it; fails if it never is."""
    deadline = time.monotonic() + timeout_s
    while True:
        call = Call.objects.filter(call_sid=call_sid).first()
        if call is not None and call.ended_at is not None:
            return call
        if time.monotonic() > deadline:
            raise AssertionError(f"call {call_sid} was not finalised: {call!r}")
        time.sleep(0.1)
