"""The ASGI servers a deployment can run, as command lines.

daphne is the default (``make run``, docker compose); daphne on uvloop and uvicorn
are the measured alternatives (README, Performance). Used by ``serve_workers``
(``make serve``) and by the benchmark, so both run exactly the same processes.
"""

from __future__ import annotations

import sys

SERVERS = ("daphne", "daphne-uvloop", "uvicorn")
APPLICATION = "voiceassistant.asgi:application"


def server_command(kind: str, host: str, port: int) -> list[str]:
    """One server process's command line."""
    if kind in ("daphne", "daphne-uvloop"):  # as `make run` serves it
        module = "daphne" if kind == "daphne" else "calls.ops.uvloop_daphne"
        return [
            *[sys.executable, "-m", module, "-b", host, "-p", str(port)],
            *["--proxy-headers", APPLICATION],
        ]
    if kind == "uvicorn":  # the measured alternative, with the options measured
        return [
            *[sys.executable, "-m", "uvicorn", APPLICATION, "--host", host],
            *["--port", str(port), "--proxy-headers", "--no-access-log"],
            *["--ws", "websockets-sansio", "--loop", "auto", "--lifespan", "off"],
        ]
    raise ValueError(f"server must be one of {SERVERS}, not {kind!r}")
