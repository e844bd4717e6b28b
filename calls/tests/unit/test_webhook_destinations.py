"""Webhook tools refuse internal destinations, as written and as resolved."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistants.webhook_secrets import generate_secret
from calls.callstate.actions import TOOL_ERROR
from calls.egress import resolver as guarded
from calls.egress.addresses import Destinations
from calls.tooling.simulators.tool_echo_server import EchoServer, EchoSettings
from calls.tools.webhooks import WebhookCall, call_webhook

SECRET = generate_secret()
STRICT = Destinations()

REFUSED = [
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://0.0.0.0/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.7/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://224.0.0.251/",
    "http://user:password@hooks.example.com/",
    "http://hooks.example.com@127.0.0.1/",
    "gopher://hooks.example.com/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_and_disguised_destinations_are_refused(url: str) -> None:
    assert STRICT.url_problem(url)


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/tool", "http://203.0.113.10.nip.example/"]
)
def test_public_destinations_are_allowed(url: str) -> None:
    assert STRICT.url_problem(url) == ""


def test_the_allow_list_admits_named_hosts_and_networks() -> None:
    allowed = Destinations.from_entries(["erp.internal", "10.1.0.0/16"])
    assert allowed.url_problem("http://erp.internal:8080/x") == ""
    assert allowed.url_problem("http://10.1.2.3/") == ""
    assert allowed.url_problem("http://10.2.0.1/")
    assert allowed.url_problem("http://127.0.0.1/")


def test_a_bad_allow_list_entry_is_named() -> None:
    with pytest.raises(ValueError, match="not a network"):
        Destinations.from_entries(["10.0.0.0/99"])


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    async with EchoServer(EchoSettings(secret=SECRET)) as server:
        yield server


def request(url: str, destinations: Destinations = STRICT) -> WebhookCall:
    return WebhookCall(
        url=url,
        secret=SECRET,
        tool="lookup_order",
        arguments={},
        call_sid="CA123",
        assistant="Front desk",
        caller_number="+15550000000",
        timeout_seconds=3,
        destinations=destinations,
    )


async def test_a_local_receiver_is_not_called_without_the_allow_list(
    echo: EchoServer,
) -> None:
    port = echo.url.rsplit(":", 1)[1].split("/")[0]
    result = await call_webhook(request(f"http://localhost:{port}/"))
    assert result.status == TOOL_ERROR
    assert "not allowed" in json.loads(result.output)["error"]
    assert echo.received == []


async def test_a_name_that_resolves_internal_at_connect_time_is_refused(
    echo: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(echo.url.rsplit(":", 1)[1].split("/")[0])

    class Rebinding:
        """Public when the URL is checked; loopback when it is connected."""

        async def resolve(self, host: str, port: int = 0, family: Any = 0) -> Any:
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": 0,
                }
            ]

        async def close(self) -> None:
            return None

    monkeypatch.setattr(guarded, "ThreadedResolver", Rebinding)
    url = f"http://hooks.example.com:{port}/"
    assert STRICT.url_problem(url) == ""
    result = await call_webhook(request(url))
    assert result.status == TOOL_ERROR
    assert "not allowed" in json.loads(result.output)["error"]
    assert echo.received == []
