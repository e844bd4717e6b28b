"""The ASGI servers a deployment can run, as command lines.

``PRODUCTION_SERVER`` is what ``manage.py serve`` (the Dockerfile, docker compose,
``make serve``) runs: uvicorn, chosen by measurement (README, Performance). daphne
stays the local server (``make run``); daphne on uvloop is the other measured
option. The rest are measured candidates (``make bench --server ...``; README,
Performance): uvicorn with other HTTP/WebSocket implementations, hypercorn and
granian, which are optional packages. Used by ``serve``/``serve_workers``, the
benchmark and the end-to-end tests, so all of them run exactly the same processes.
"""

from __future__ import annotations

import sys

# uvicorn's variants: (HTTP parser, WebSocket implementation). "uvicorn" is the
# production one; its HTTP parser is named so that installing httptools does not
# silently change what is measured (the parser only sees webhooks and upgrades).
UVICORN_VARIANTS = {
    "uvicorn": ("h11", "websockets-sansio"),
    "uvicorn-httptools": ("httptools", "websockets-sansio"),
    "uvicorn-websockets": ("h11", "websockets"),
    "uvicorn-wsproto": ("h11", "wsproto"),
}
SERVERS = ("daphne", "daphne-uvloop", *UVICORN_VARIANTS, "hypercorn", "granian")
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
    if kind in UVICORN_VARIANTS:  # production: "uvicorn", with the options measured
        http, ws = UVICORN_VARIANTS[kind]
        return [
            *[sys.executable, "-m", "uvicorn", APPLICATION, "--host", host],
            *["--port", str(port), "--proxy-headers", "--no-access-log"],
            *["--http", http, "--ws", ws, "--loop", "auto", "--lifespan", "off"],
            *["--ws-max-size", str(WS_MAX_MESSAGE_BYTES)],
        ]
    if kind == "hypercorn":  # workers 0: serve in this process, no supervisor
        return [
            *[sys.executable, "-m", "hypercorn", "--bind", f"{host}:{port}"],
            *["--worker-class", "uvloop", "--workers", "0"],
            *["--config", "python:calls.ops.hypercorn_config", APPLICATION],
        ]
    if kind == "granian":  # one worker process under granian's supervisor
        return [
            *[sys.executable, "-m", "granian", "--interface", "asgi"],
            *["--host", host, "--port", str(port), "--workers", "1"],
            *["--loop", "uvloop", "--no-access-log", APPLICATION],
        ]
    raise ValueError(f"server must be one of {SERVERS}, not {kind!r}")
