"""``manage.py serve_workers --workers 2 --port 8000`` (``make serve WORKERS=2``).

One server process uses one core, so a host serves more calls with one process per
core. This starts ``--workers`` server processes on consecutive ports (PORT,
PORT+1, ...) and prints their URLs; put a WebSocket-capable load balancer in front
of them. A call's media stream stays on the process that accepted it; live views
and call control reach it through the channel layer, so more than one process
needs ``REDIS_URL``. SIGINT and SIGTERM are passed on to
every process, which then ends its calls; if one process dies, the rest are
stopped and the command fails.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calls.ops.servers import PRODUCTION_SERVER, SERVE_SERVERS, server_command

# The packages a uvicorn variant needs beyond uvicorn itself.
OPTIONAL_PACKAGES = {
    "uvicorn-httptools": ("httptools",),
    "uvicorn-wsproto": ("wsproto",),
}
# How long the processes get to finish their calls after SIGTERM.
STOP_GRACE_SECONDS = 30.0


class Command(BaseCommand):
    help = "Run several server processes on consecutive ports (needs REDIS_URL)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="How many server processes, on consecutive ports from --port "
            "(default: %(default)s; more than one needs REDIS_URL).",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help="The first process's port (default: PORT, %(default)s).",
        )
        parser.add_argument(
            "--host",
            default="0.0.0.0",
            help="The address to bind (default: %(default)s, every interface, for "
            "the load balancer in front).",
        )
        parser.add_argument(
            "--server",
            choices=SERVE_SERVERS,
            default=PRODUCTION_SERVER,
            help=f"the server (default: {PRODUCTION_SERVER}); the others are uvicorn "
            "with another HTTP parser or WebSocket implementation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers, port = options["workers"], options["port"]
        self.check_options(workers, options["server"])
        commands = [
            server_command(options["server"], options["host"], port + index)
            for index in range(workers)
        ]
        processes = [subprocess.Popen(command) for command in commands]
        for index in range(workers):
            self.stdout.write(f"worker {index + 1}: http://127.0.0.1:{port + index}/")
        self.stdout.write(
            "Point your load balancer at these ports (WebSockets on); "
            "Ctrl-C stops them all."
        )
        self.supervise(processes)

    def check_options(self, workers: int, server: str) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "REDIS_URL is required with more than one worker: the processes "
                "share live views and call control through Redis. Set REDIS_URL "
                "(e.g. redis://127.0.0.1:6379/0) or use WORKERS=1."
            )
        for needs in ("uvicorn", *OPTIONAL_PACKAGES.get(server, ())):
            if importlib.util.find_spec(needs) is None:
                raise CommandError(f"{server} needs {needs}: pip install {needs}")

    def supervise(self, processes: list[subprocess.Popen[bytes]]) -> None:
        """Wait; pass SIGINT/SIGTERM on; if one process dies, stop the others."""
        signalled: list[int] = []

        def forward(signum: int, frame: FrameType | None) -> None:
            signalled.append(signum)
            signal_all(processes, signum)

        previous = {
            sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        crashed: subprocess.Popen[bytes] | None = None
        try:
            while not signalled and crashed is None:
                crashed = next((p for p in processes if p.poll() is not None), None)
                time.sleep(0.2)
            if crashed is not None and not signalled:
                signal_all(processes, signal.SIGTERM)
            self.wait_all(processes)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if crashed is not None and not signalled:
            raise CommandError(
                f"server process {crashed.pid} exited with code "
                f"{crashed.returncode}; stopped the others"
            )

    def wait_all(self, processes: list[subprocess.Popen[bytes]]) -> None:
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"process {process.pid} did not stop; killing it")
                process.kill()
                process.wait()


def signal_all(processes: list[subprocess.Popen[bytes]], signum: int) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signum)
