"""Run this project under an ASGI server as a subprocess on a free local port.

Used by ``demo_call``, the end-to-end tests and the benchmark: start daphne (or
any server of ``calls.tooling.servers.commands``, the production one included)
with a given environment, wait until ``/healthz`` answers 200, stop it
afterwards. Its output goes to a log file whose tail is included in any startup
error. Imports no Django: the subprocess configures itself from the environment.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from calls.ops.servers import APPLICATION
from calls.tooling.servers.commands import server_command

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[3]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server process; ``server`` is any of ``calls.tooling.servers.commands``."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        application: str = "voiceassistant.asgi:application",
        keep_log: bool = False,
        server: str = "daphne",
    ) -> None:
        self.server = server
        self.host = host
        self.port = port or free_port(host)
        self.env = {**os.environ, **env}
        self.application = application
        self.keep_log = keep_log
        self.log_path = Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> ServerProcess:
        if self.application == APPLICATION:
            command = server_command(self.server, self.host, self.port)
        else:  # another ASGI application under daphne (tests of the harness)
            command = [
                *[sys.executable, "-m", "daphne", "-b", self.host, "-p"],
                *[str(self.port), self.application],
            ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=self.env, stdout=log, stderr=log
            )
        self._wait_healthy(timeout_s)
        logger.info(
            "%s serving at %s (log: %s)", self.server, self.base_url, self.log_path
        )
        return self

    def _wait_healthy(self, timeout_s: float) -> None:
        try:
            wait_until_healthy(self.base_url, self._process, timeout_s)
        except RuntimeError as exc:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"daphne {exc}:\n{tail}") from None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def terminate(self, timeout_s: float = 20.0) -> int:
        """Send SIGTERM, as a process manager would, and wait: the exit code."""
        process = self._process
        if process is None:
            raise RuntimeError("daphne is not running")
        process.terminate()
        return process.wait(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if not self.keep_log:
            self.log_path.unlink(missing_ok=True)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("daphne did not stop within %ss; killing it", timeout_s)
            process.kill()
            process.wait(timeout_s)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes] | None, timeout_s: float
) -> None:
    """Return once ``base_url``'s ``/healthz`` answers 200.

    RuntimeError saying why otherwise: the process exited, or time ran out.
    """
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"did not become healthy within {timeout_s:g} s ({last})")
