"""Command lines for every server the benchmark and the tests can run.

``serve``'s servers (``calls.ops.servers``) plus the measured candidates that
``serve`` does not offer: daphne, daphne on uvloop, hypercorn and granian (the
last two are optional packages). The benchmark, the end-to-end tests and
``demo_call`` start their processes from here, so they run exactly what
``serve`` and ``make run`` would.
"""

from __future__ import annotations

import sys

from calls.ops.servers import (
    APPLICATION,
    SERVE_SERVERS,
    WS_MAX_MESSAGE_BYTES,
)
from calls.ops.servers import server_command as serve_command

SERVERS = ("daphne", "daphne-uvloop", *SERVE_SERVERS, "hypercorn", "granian")


def server_command(kind: str, host: str, port: int) -> list[str]:
    """One server process's command line."""
    if kind in ("daphne", "daphne-uvloop"):  # as `make run` serves it
        module = "daphne" if kind == "daphne" else "calls.tooling.servers.uvloop_daphne"
        return [
            *[sys.executable, "-m", module, "-b", host, "-p", str(port)],
            *["--websocket-max-message-size", str(WS_MAX_MESSAGE_BYTES)],
            *["--proxy-headers", APPLICATION],
        ]
    if kind in SERVE_SERVERS:  # production: "uvicorn", with the options measured
        return serve_command(kind, host, port)
    if kind == "hypercorn":  # workers 0: serve in this process, no supervisor
        return [
            *[sys.executable, "-m", "hypercorn", "--bind", f"{host}:{port}"],
            *["--worker-class", "uvloop", "--workers", "0"],
            *["--config", "python:calls.tooling.servers.hypercorn_config"],
            APPLICATION,
        ]
    if kind == "granian":  # one worker process under granian's supervisor
        return [
            *[sys.executable, "-m", "granian", "--interface", "asgi"],
            *["--host", host, "--port", str(port), "--workers", "1"],
            *["--loop", "uvloop", "--no-access-log", APPLICATION],
        ]
    raise ValueError(f"server must be one of {SERVERS}, not {kind!r}")
