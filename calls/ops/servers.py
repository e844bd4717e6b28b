"""The ASGI servers a deployment can run, as command lines.

``PRODUCTION_SERVER`` is what ``manage.py serve`` (the Dockerfile, docker compose,
``make serve``) runs: uvicorn, chosen by measurement (README, Performance). daphne
stays the local server (``make run``); daphne on uvloop is the other measured
option. Used by ``serve``/``serve_workers``, the benchmark and the end-to-end
tests, so all of them run exactly the same processes.
"""

from __future__ import annotations

import sys

SERVERS = ("daphne", "daphne-uvloop", "uvicorn")
# The servers' own WebSocket message cap, set a little above ours
# (``media_stream.MAX_FRAME_CHARS``, 64 KiB): a frame between the two is counted
# and ignored by the call; one above it is refused by the server (close 1009).
WS_MAX_MESSAGE_BYTES = 256 * 1024
PRODUCTION_SERVER = "uvicorn"
APPLICATION = "voiceassistant.asgi:application"


def server_command(kind: str, host: str, port: int) -> list[str]:
    """One server process's command line."""
    if kind in ("daphne", "daphne-uvloop"):  # as `make run` serves it
        module = "daphne" if kind == "daphne" else "calls.ops.uvloop_daphne"
        return [
            *[sys.executable, "-m", module, "-b", host, "-p", str(port)],
            *["--websocket-max-message-size", str(WS_MAX_MESSAGE_BYTES)],
            *["--proxy-headers", APPLICATION],
        ]
    if kind == "uvicorn":  # the measured alternative, with the options measured
        return [
            *[sys.executable, "-m", "uvicorn", APPLICATION, "--host", host],
            *["--port", str(port), "--proxy-headers", "--no-access-log"],
            *["--ws", "websockets-sansio", "--loop", "auto", "--lifespan", "off"],
            *["--ws-max-size", str(WS_MAX_MESSAGE_BYTES)],
        ]
    raise ValueError(f"server must be one of {SERVERS}, not {kind!r}")
