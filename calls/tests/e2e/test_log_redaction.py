"""The production server's log names a refused media stream without its token:
uvicorn logs a refused WebSocket upgrade itself (``"WebSocket <path>" 403``),
with the path, and the token there is still valid."""

from __future__ import annotations

import re
import socket
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import conftest
from calls.ops.servers import PRODUCTION_SERVER
from calls.tests.support import e2e
from calls.tests.support.twilio_signing import call_params, twilio_signature
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller.webhook import new_sid, parse_twiml

pytestmark = pytest.mark.django_db(transaction=True)


def stream_path(server: ServerProcess, call_sid: str) -> str:
    """The signed voice webhook's stream path (holding a fresh token)."""
    params = call_params(CallSid=call_sid)
    url = conftest.TEST_PUBLIC_BASE_URL + "/twilio/voice/"
    request = urllib.request.Request(
        server.base_url + "/twilio/voice/",
        data=urlencode(params).encode(),
        headers={"X-Twilio-Signature": twilio_signature(url, params)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return urlsplit(parse_twiml(response.read().decode()).stream_url).path


def unsigned_upgrade(server: ServerProcess, path: str) -> bytes:
    """An upgrade without Twilio's signature: the server refuses it (403)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: voice.example.com\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(1024)


def test_uvicorn_logs_a_refused_stream_without_its_token(
    simulator: SimulatorThread, phone_number: Any
) -> None:
    assert PRODUCTION_SERVER.startswith("uvicorn")
    server = e2e.start_server(simulator.url, LOG_LEVEL="INFO")
    try:
        path = stream_path(server, new_sid("CA"))
        token = path.split("/")[-2]

        answer = unsigned_upgrade(server, path)

        assert answer.startswith(b"HTTP/1.1 403"), answer
        log = server.log_tail(100_000)
        assert '"WebSocket /twilio/media-stream/<redacted>/" 403' in log, log[-3000:]
        assert token not in log
        assert not re.search(r"media-stream/(?!<redacted>)", log)
    finally:
        server.stop()
