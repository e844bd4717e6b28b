"""Faults end to end through the production server and the simulators: callers
aborting the upgrade, a server killed mid-call, PostgreSQL paused mid-call, a
logged-out live socket."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission
from django.utils import timezone

import conftest
from calls.models import Call, CallStatus, EndReason
from calls.tests.support import e2e
from calls.tests.support.live_call import LiveCall, StaffSession
from calls.tests.support.twilio_signing import call_params, twilio_signature
from calls.tooling.simulators.local_server import ServerProcess, free_port
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller.webhook import new_sid, parse_twiml

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "hardening-pass-123"


# A simulator per test, not the level's per module: these tests count the
# sessions it has open and the legs it saw.
@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    thread = e2e.start_simulator()
    yield thread
    thread.stop()


def open_realtime_sessions(simulator: SimulatorThread) -> int:
    return len(simulator.simulator._live)


def voice_webhook(server: ServerProcess, call_sid: str) -> str:
    """POST the signed voice webhook; the stream URL's path from its TwiML."""
    params = call_params(CallSid=call_sid)
    url = conftest.TEST_PUBLIC_BASE_URL + "/twilio/voice/"
    request = urllib.request.Request(
        server.base_url + "/twilio/voice/",
        data=urlencode(params).encode(),
        headers={"X-Twilio-Signature": twilio_signature(url, params)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return urlsplit(parse_twiml(response.read().decode()).stream_url).path


def abort_upgrade(server: ServerProcess, stream_path: str, after_s: float) -> None:
    """Send a signed stream upgrade, then reset the connection (RST, no FIN)."""
    signature = twilio_signature("wss://voice.example.com" + stream_path, {})
    request = (
        f"GET {stream_path} HTTP/1.1\r\nHost: voice.example.com\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"X-Twilio-Signature: {signature}\r\n\r\n"
    )
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.sendall(request.encode())
    time.sleep(after_s)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("client", ["picows", "websockets"])
def test_it_leaks_no_realtime_session_when_callers_abort_the_upgrade(
    simulator: SimulatorThread, phone_number: Any, client: str
) -> None:
    # daphne: the assertions read its access log's lines.
    server = e2e.start_server(simulator.url, server="daphne", ENGINE_WS_CLIENT=client)
    sids = [new_sid("CA") for _ in range(40)]
    try:
        for n, call_sid in enumerate(sids):
            # From at once to a few ms in: before, during and after the leg opens.
            abort_upgrade(server, voice_webhook(server, call_sid), (n % 8) / 1000)
        # Settled: nothing open at the simulator or in the database, twice over
        # (the last upgrade may still be claiming its call at the first look).
        deadline = time.monotonic() + 15
        settled = 0
        while time.monotonic() < deadline and settled < 3:
            calls = Call.objects.filter(call_sid__in=sids)
            quiet = open_realtime_sessions(simulator) == 0 and all(
                c.ended_at is not None or c.stream_claimed_at is None for c in calls
            )
            settled = settled + 1 if quiet else 0
            time.sleep(0.3)
        assert open_realtime_sessions(simulator) == 0
        assert len(simulator.simulator.connections) > 0  # legs were opened
        claimed = Call.objects.filter(
            call_sid__in=sids, stream_claimed_at__isnull=False
        )
        # Every call whose stream was claimed was ended; none is left ringing.
        assert claimed.exists()
        left_open = [c.call_sid for c in claimed.filter(ended_at__isnull=True)]
        log = server.log_tail(100_000)
        assert left_open == [], log[-5000:]
        assert "database is locked" not in log
        # daphne's access log and our lines name the stream without its token.
        assert "WSCONNECTING /twilio/media-stream/<redacted>/" in log
        assert not re.search(r"media-stream/(?!<redacted>)", log)
    finally:
        server.stop()


def test_a_killed_servers_calls_are_closed_by_another_servers_sweep(
    simulator: SimulatorThread, phone_number: Any
) -> None:
    doomed = e2e.start_server(simulator.url)
    with LiveCall(doomed) as live:
        assert Call.objects.get(call_sid=live.call_sid).heartbeat_at is not None
        assert doomed._process is not None
        doomed._process.send_signal(signal.SIGKILL)
        doomed._process.wait(10)
        # Its heartbeat stops; move it 31 s into the past instead of waiting.
        stale = timezone.now() - dt.timedelta(seconds=31)
        Call.objects.filter(call_sid=live.call_sid).update(heartbeat_at=stale)
        survivor = e2e.start_server(simulator.url, CALLS_SWEEP_SECONDS="0.5")
        try:
            call = e2e.finished_call(live.call_sid, timeout_s=10)
        finally:
            survivor.stop()
            doomed.stop()
    assert (call.end_reason, call.status) == (EndReason.PROCESS_LOST, CallStatus.FAILED)
    assert "sweep" in call.error
    assert not Call.objects.filter(
        ended_at__isnull=True, stream_claimed_at__isnull=False
    ).exists()


def test_a_logged_out_live_socket_is_closed_at_once(
    simulator: SimulatorThread, staff_user: Any
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Origin

    staff_user.password = PBKDF2PasswordHasher().encode(PASSWORD, "hardening", 1000)
    staff_user.save(update_fields=["password"])
    staff_user.user_permissions.add(Permission.objects.get(codename="view_live_call"))
    server = e2e.start_server(simulator.url)
    try:
        browser = StaffSession(server.base_url, "staff", PASSWORD)
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        origin = Origin(server.base_url)
        ws_url = f"ws://{server.host}:{server.port}/ws/calls/live/"

        async def watch_then_log_out() -> int | None:
            async with connect(
                ws_url, additional_headers={"Cookie": cookie}, origin=origin
            ) as ws:
                assert '"snapshot"' in str(await ws.recv())
                page = await asyncio.to_thread(browser.get, "/calls/")
                await asyncio.to_thread(browser.post, "/admin/logout/", page)
                try:
                    async with asyncio.timeout(5):
                        while True:
                            await ws.recv()
                except ConnectionClosed:
                    pass
                return ws.close_code

        assert asyncio.run(watch_then_log_out()) == 4401
    finally:
        server.stop()


# -- PostgreSQL paused mid-call (a private server this test starts) -------------------


def postgres_binaries() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary directory on a free port."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="h10-pg-"))
        self.port = free_port()
        self.data = self.dir / "data"
        self.user_args: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            import pwd

            user = pwd.getpwnam("postgres")
            shutil.chown(self.dir, user.pw_uid, user.pw_gid)
            self.user_args = {"user": user.pw_uid, "group": user.pw_gid}

    def run(self, *args: str) -> None:
        subprocess.run(
            args, check=True, capture_output=True, timeout=60, **self.user_args
        )

    def init(self) -> PrivatePostgres:
        self.run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
        )
        return self.start()

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        )
        self.run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        self.run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "stop",
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/voice"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_binaries()
    if bin_dir is None:
        conftest.require_service(
            False, "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)"
        )
        return
    server = PrivatePostgres(bin_dir).init()
    try:
        server.run(
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "voice",
        )
        yield server
    finally:
        server.remove()


def manage(*args: str, database_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "true",
        "REDIS_URL": "",
        "CONN_MAX_AGE": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", *args],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[3],
    )


ROWS_OF_CALL = (
    "FROM calls_transcriptentry e JOIN calls_call c ON c.id = e.call_id "
    "WHERE c.call_sid = %s"
)
ENDED_SQL = "SELECT ended_at, error FROM calls_call WHERE call_sid = %s"


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(
        url.replace("postgres://", "postgresql://"), connect_timeout=2
    ) as conn:
        return conn.execute(sql, params).fetchall()


def test_the_transcript_survives_postgres_stopping_mid_call(
    simulator: SimulatorThread, private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.url
    manage("migrate", "--noinput", database_url=url)
    assistants = tmp_path / "assistants.json"
    front_desk = {
        "name": "Front desk",
        "greeting": "Hello, front desk.",
        "phone_numbers": ["+15550000001"],
    }
    assistants.write_text(json.dumps({"assistants": [front_desk]}))
    manage("assistants", "import", str(assistants), database_url=url)
    server = e2e.start_server(simulator.url, DATABASE_URL=url)
    server.keep_log = True
    try:
        options = e2e.caller_options(server, script=e2e.quick_script(turns=6))
        report_box: list[Any] = []
        import threading

        caller = threading.Thread(
            target=lambda: report_box.append(e2e.run_call(options)), daemon=True
        )
        caller.start()
        sql_rows = f"SELECT count(*) {ROWS_OF_CALL}"
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and query(url, sql_rows, options.call_sid)[0][0] < 2
        ):
            time.sleep(0.1)
        private_postgres.stop()  # mid-call: the greeting and a turn are written
        time.sleep(6)
        private_postgres.start()
        caller.join(60)
        assert report_box, "the call did not finish"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ended = query(url, ENDED_SQL, options.call_sid)
            if ended and ended[0][0] is not None:
                break
            time.sleep(0.2)
        ended_at, error = ended[0]
        rows = query(
            url,
            f"SELECT e.role, e.text {ROWS_OF_CALL} ORDER BY e.seq",
            options.call_sid,
        )
        roles = [role for role, _ in rows]
        texts = [text for _, text in rows]
        log = server.log_path.read_text(errors="replace")
    finally:
        server.keep_log = False
        server.stop()
    assert ended_at is not None
    assert "lost" not in error
    # Every turn the caller took is there, and each was answered.
    assert roles.count("caller") == 6, roles
    assert roles.count("assistant") >= 7, roles  # the greeting and six answers
    assert "retrying" in log  # the outage was real and ridden out
    loud = [
        line for line in log.splitlines() if " WARNING " in line or " ERROR " in line
    ]
    assert not [line for line in loud for text in texts if text and text in line]
