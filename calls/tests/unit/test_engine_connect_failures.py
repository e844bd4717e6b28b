"""An engine that cannot be reached is described by its cause, not as a refusal."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest

from calls.engines.failures import connect_failure


class Refused(Exception):
    """Like websockets' InvalidStatus: the HTTP response of a refused upgrade."""

    def __init__(self, status: int) -> None:
        super().__init__(f"server rejected WebSocket connection: HTTP {status}")
        self.response = type("Response", (), {"status_code": status})()


def wrapped(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise OSError("connect failed") from inner
    except OSError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            socket.gaierror(-2, "Name or service not known"),
            "could not be looked up (DNS)",
        ),
        (wrapped(socket.gaierror(-3, "Temporary failure")), "(DNS)"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "certificate"),
        (Refused(401), "refused the API key (HTTP 401)"),
        (Refused(503), "refused the connection (HTTP 503)"),
        (ConnectionRefusedError(111, "Connection refused"), "nothing listens"),
        (TimeoutError(), "did not answer within 3 s"),
    ],
)
def test_each_cause_is_named(exc: Any, expected: str) -> None:
    said = connect_failure(exc, label="OpenAI Realtime", within=3)
    assert expected in said
    if not isinstance(exc, ConnectionRefusedError | Refused):
        assert "refused the connection" not in said
