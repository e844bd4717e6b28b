"""Another bridge to measure against (``--baseline 'COMMAND'``), in its own process.

Any server that speaks Twilio's voice webhook and Media Stream will do, such as
the Twilio tutorial's Node.js sample. The command runs through ``/bin/sh`` in a
session of its own (so ``cd DIR && node index.js`` works, and stopping it stops
every process it started), with the engine stand-in's URL and a free port in its
environment (``variables``); ``{port}`` in the command is replaced by that port
too. It counts as up once the port accepts a connection.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from calls.tooling.bench import procstat
from calls.tooling.bench.server import tail
from calls.tooling.simulators.local_server import free_port

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def variables(*, port: int, realtime_url: str, auth_token: str) -> dict[str, str]:
    """What the baseline's environment adds: the names the common samples read."""
    return {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "OPENAI_REALTIME_URL": realtime_url,
        "OPENAI_URL": realtime_url,
        "OPENAI_API_KEY": "sk-bench",
        "TWILIO_AUTH_TOKEN": auth_token,
    }


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class BaselineServer:
    """``command`` started on a free port; ``urls`` and ``pids`` as a ServerGroup's."""

    def __init__(
        self, command: str, *, realtime_url: str, auth_token: str, log_dir: Path
    ) -> None:
        self.port = free_port()
        self.command = command.replace("{port}", str(self.port))
        self.env = {
            **os.environ,
            **variables(
                port=self.port, realtime_url=realtime_url, auth_token=auth_token
            ),
        }
        self.log = log_dir / "baseline.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}"]

    @property
    def pids(self) -> list[int]:
        """The shell and everything below it (the bridge and its children)."""
        return procstat.with_descendants([self.process.pid] if self.process else [])

    def __enter__(self) -> BaselineServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", self.command],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                log = tail(self.log)
                raise RuntimeError(f"no baseline on port {self.port}:\n{log}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        # The session this class started: the shell and whatever it ran.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _group_alive(process.pid) and time.monotonic() < deadline:
                process.poll()  # reap the shell, so that its group can empty
                time.sleep(0.05)
            if not _group_alive(process.pid):
                break
        process.wait(STOP_TIMEOUT_S)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
