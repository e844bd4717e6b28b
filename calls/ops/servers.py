"""The ASGI servers ``manage.py serve`` runs, as command lines.

``PRODUCTION_SERVER`` is what ``serve`` (the Dockerfile, docker compose,
``make serve``) runs by default: uvicorn, chosen by measurement. ``SERVE_SERVERS``
are the ones ``serve`` offers: uvicorn with its HTTP/WebSocket implementations,
the servers that pass the end-to-end tests (SIGTERM included). daphne (``make
run``) and the other measured candidates are the dev-tools app's
(``calls.tooling.servers``), for the benchmark and the tests.
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
SERVE_SERVERS = tuple(UVICORN_VARIANTS)
# The servers' own WebSocket message cap, set a little above ours
# (``media_stream.MAX_FRAME_CHARS``, 64 KiB): a frame between the two is counted
# and ignored by the call; one above it is refused by the server (close 1009).
WS_MAX_MESSAGE_BYTES = 256 * 1024
PRODUCTION_SERVER = "uvicorn"
APPLICATION = "voiceassistant.asgi:application"


def server_command(kind: str, host: str, port: int) -> list[str]:
    """One uvicorn process's command line, with the options measured."""
    if kind not in UVICORN_VARIANTS:
        raise ValueError(f"server must be one of {SERVE_SERVERS}, not {kind!r}")
    http, ws = UVICORN_VARIANTS[kind]
    return [
        *[sys.executable, "-m", "uvicorn", APPLICATION, "--host", host],
        *["--port", str(port), "--proxy-headers", "--no-access-log"],
        *["--http", http, "--ws", ws, "--loop", "auto", "--lifespan", "off"],
        *["--ws-max-size", str(WS_MAX_MESSAGE_BYTES)],
    ]
