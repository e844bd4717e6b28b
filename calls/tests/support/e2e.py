"""Harness for the end-to-end tests: a server, the Realtime simulator, simulated calls.

A server (the production one, or daphne) serves the project as a subprocess on a
free 127.0.0.1 port, configured through its environment to use the *test*
database (so rows written with ``django_db(transaction=True)`` are shared both
ways), the in-process Realtime simulator (running on its own thread and loop),
and the test Twilio credentials from ``conftest``. ``run_call`` places one
simulated call; ``finished_call`` waits for the server to finalise it.
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
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    CallReport,
    Step,
    TwilioCaller,
    default_script,
)

SIM_API_KEY = "sk-simulated"
# E2E_SERVERS=granian,hypercorn runs every test on candidates instead (the bench's
# servers).
CANDIDATES = tuple(filter(None, os.environ.get("E2E_SERVERS", "").split(",")))


def servers(*, also_daphne: bool = False) -> tuple[str, ...]:
    """The servers a test runs on: the production one; daphne too for the few
    tests that prove ``make run``'s server still works."""
    if CANDIDATES:
        return CANDIDATES
    return (PRODUCTION_SERVER, "daphne") if also_daphne else (PRODUCTION_SERVER,)


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


def start_server(
    realtime_url: str, *, server: str = PRODUCTION_SERVER, **env: str
) -> ServerProcess:
    """A server (the production one unless told) on the test database, the
    simulator and the test Twilio settings."""
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
        "REALTIME_PROVIDER": "",
        "ENGINE_CONNECT_TIMEOUT": "5",
        "LOG_LEVEL": "INFO",
        # The webhook tests' receivers listen on this machine.
        "WEBHOOK_ALLOW_INTERNAL": "127.0.0.1/32,localhost",
        **env,
    }
    return ServerProcess(environment, server=server).start()


def quick_script(*, turns: int = 2, barge_in: bool = False) -> list[Step]:
    """The default call, with shorter speech and pauses."""
    return default_script(turns=turns, barge_in=barge_in, speech_ms=800, quiet_ms=300)


def caller_options(server: ServerProcess, **kwargs: Any) -> CallerOptions:
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
