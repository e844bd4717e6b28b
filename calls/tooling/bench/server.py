"""The processes under test and their stand-ins: server workers, the Realtime simulator.

``BenchEnvironment`` holds what every server process gets, as in production: DEBUG
off, a random ``SECRET_KEY`` and ``TWILIO_AUTH_TOKEN`` (so every webhook and stream
upgrade is signed and checked), ``PUBLIC_BASE_URL``, a dedicated database migrated
for the run (``prepare_database``), and ``OPENAI_REALTIME_URL`` at the simulator,
which runs in its own process so that its CPU is not counted as the server's.
``ServerGroup`` starts N processes of daphne (the default) or uvicorn on
consecutive ports and waits until each answers ``/healthz``. No Django here: the
project runs in the subprocesses.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calls.ops.servers import APPLICATION
from calls.tooling.bench import procstat
from calls.tooling.servers.commands import server_command
from calls.tooling.simulators import local_server
from calls.tooling.simulators.local_server import PROJECT_DIR, free_port

logger = logging.getLogger(__name__)

ECHO_NUMBER = "+15550000999"  # no greeting: audio is only the caller's echo
CONVERSATION_NUMBER = "+15550000998"  # greets, then answers each turn
# The echo assistant with recording on: a scenario with recording "on" calls it,
# so one run (one database, one server start-up) can measure both.
RECORDED_ECHO_NUMBER = "+15550000997"
RECORDING_ON = {"enabled": True, "retention_days": None}
VAD_SILENCE_MS = 500
PUBLIC_URL = "https://voice.bench.invalid"
# The floor relay (``floor``), served by the same server commands as the project.
FLOOR_APPLICATION = "calls.tooling.bench.floor:application"


@dataclass
class BenchEnvironment:
    database_url: str
    realtime_url: str = ""
    redis_url: str = ""
    log_dir: Path = field(default_factory=lambda: PROJECT_DIR / "var" / "bench")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(40))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    extra: dict[str, str] = field(default_factory=dict)
    # The servers' MEDIA_ROOT (recordings and their spool), emptied by
    # prepare_database so that what is there afterwards is this run's. By
    # default beside the logs, so benches run side by side never share it.
    media_root: Path | None = None

    @property
    def media(self) -> Path:
        return self.media_root or self.log_dir / "media"

    def variables(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "voiceassistant.settings",
            "DATABASE_URL": self.database_url,
            "DEBUG": "false",
            # Production sits behind a TLS proxy; the bench talks plain HTTP to
            # 127.0.0.1, so it must not be redirected to https.
            "SECURE_SSL_REDIRECT": "false",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": PUBLIC_URL,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_REALTIME_URL": self.realtime_url,
            "REALTIME_PROVIDER": "",
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "INFO",
            "MEDIA_ROOT": str(self.media),
            "RECORDING_SPOOL_DIR": str(self.media / "spool"),
            "RECORDINGS_S3_BUCKET": "",
            **self.extra,
        }


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_DIR / 'var' / 'bench.sqlite3'}"


def prepare_database(
    env: BenchEnvironment, *, record_conversation: bool = False
) -> None:
    """Migrate the bench database (a fresh SQLite file) and add its assistants:
    echo without and with recording, and the conversation one (recorded when
    ``record_conversation``)."""
    for part in ("recordings", "spool"):
        shutil.rmtree(env.media / part, ignore_errors=True)
    prefix = "sqlite:///"
    if env.database_url.startswith(prefix):
        path = Path(env.database_url[len(prefix) :])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    manage = [sys.executable, "manage.py"]
    run: dict[str, Any] = {"cwd": PROJECT_DIR, "env": env.variables(), "check": True}
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], **run)
    common = {
        "instructions": "Benchmark.",
        "turn_detection": "server_vad",
        "vad_silence_duration_ms": VAD_SILENCE_MS,
    }
    document = {
        "assistants": [
            {
                "name": "Bench echo",
                **common,
                "greeting": "",
                "phone_numbers": [ECHO_NUMBER],
            },
            {
                "name": "Bench echo recorded",
                **common,
                "greeting": "",
                "recording": RECORDING_ON,
                "phone_numbers": [RECORDED_ECHO_NUMBER],
            },
            {
                "name": "Bench conversation",
                **common,
                "greeting": "Hello, this is the benchmark.",
                "recording": RECORDING_ON
                if record_conversation
                else {"enabled": False, "retention_days": None},
                "phone_numbers": [CONVERSATION_NUMBER],
            },
        ]
    }
    subprocess.run(
        [*manage, "assistants", "import", "-"],
        input=json.dumps(document).encode(),
        stdout=subprocess.DEVNULL,
        **run,
    )


RECORDINGS_QUERY = """
import json
from django.db.models import Count, Sum
from calls.models import Recording
print(json.dumps(Recording.objects.aggregate(
    count=Count("id"), size_bytes=Sum("size_bytes"), duration_ms=Sum("duration_ms"))))
"""


def recordings_written(env: BenchEnvironment) -> dict[str, Any]:
    """The Recording rows the run left, their files on disk, and bytes a minute."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", RECORDINGS_QUERY],
        cwd=PROJECT_DIR,
        env=env.variables(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    files = list((env.media / "recordings").rglob("*.wav"))
    size, duration = rows["size_bytes"] or 0, rows["duration_ms"] or 0
    return {
        **rows,
        "files": len(files),
        "file_bytes": sum(f.stat().st_size for f in files),
        "spool_files_left": len(list((env.media / "spool").glob("*"))),
        "bytes_per_minute": size * 60_000 / duration if duration else None,
    }


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    try:
        local_server.wait_until_healthy(url, process, 60)
    except RuntimeError as exc:
        raise RuntimeError(f"{url} {exc}:\n{tail(log)}") from None


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class ServerGroup:
    """``workers`` server processes on consecutive free ports."""

    def __init__(
        self,
        env: BenchEnvironment,
        *,
        kind: str,
        workers: int,
        application: str = APPLICATION,
    ) -> None:
        self.env = env
        self.kind = kind
        self.workers = workers
        # Another ASGI application on the same server command: the floor's.
        self.application = application
        self.processes: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []

    @property
    def pids(self) -> list[int]:
        """The processes started and their children (a server's workers)."""
        return procstat.with_descendants([p.pid for p in self.processes])

    def start(self) -> ServerGroup:
        self.env.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for index in range(self.workers):
                self._start_one(index)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_one(self, index: int) -> None:
        port = free_port()
        floor = "" if self.application == APPLICATION else "floor-"
        log = self.env.log_dir / f"{floor}{self.kind}-{index}.log"
        with log.open("wb") as out:
            command = [
                self.application if part == APPLICATION else part
                for part in server_command(self.kind, "127.0.0.1", port)
            ]
            process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=self.env.variables(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(process, url, log)
        self.urls.append(url)

    def stop(self) -> None:
        stop_processes(self.processes)
        self.processes = []

    def __enter__(self) -> ServerGroup:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            logger.warning("process %s ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.wait(5)


ECHO_STAND_INS = ("lean", "simulator")


class StandIn:
    """A Realtime stand-in in its own process, serving ``url`` once it says so.

    ``mode`` is "echo" (``echo``: "lean" is ``calls.tooling.bench.echo``, "simulator"
    the Realtime simulator's echo mode) or "conversation" (the simulator).
    """

    def __init__(
        self, *, mode: str, log_dir: Path, echo: str = "lean", options: list[str]
    ) -> None:
        self.port = free_port()
        self.name = "echo-" + echo if mode == "echo" else mode
        self.log = log_dir / f"standin-{self.name}.log"
        port = ["--port", str(self.port)]
        if mode == "echo" and echo == "lean":
            self.command = [sys.executable, "-m", "calls.tooling.bench.echo", *port]
        else:
            self.command = [
                *[sys.executable, "-m", "calls.tooling.simulators.realtime_server"],
                *["--mode", mode, *port, "--log-level", "WARNING", *options],
            ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> StandIn:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while "listening on" not in tail(self.log):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"{self.name} did not start:\n{tail(self.log)}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            stop_processes([self.process])
            self.process = None
