"""Webhook tools over real HTTP: ``WebhookTools`` and ``call_webhook`` against the
echo server on a local port.

The echo server verifies every request with the ``standardwebhooks`` package, so
a passing call proves the signature is what a receiver following the standard
accepts; the failures (timeout, 500, redirect, oversize, bad secret, bad URL)
must all come back as error outputs the model can apologise for.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from assistants.webhook_secrets import generate_secret
from calls.callstate.actions import TOOL_ERROR, TOOL_OK, TOOL_TIMEOUT, RunTool
from calls.egress.addresses import Destinations
from calls.tests.support.realtime_client import (
    configure,
    open_session,
    recv_until,
    send_audio,
)
from calls.tooling.simulators import audio
from calls.tooling.simulators.realtime_server import RealtimeSimulator
from calls.tooling.simulators.realtime_server.tool_script import ScriptedToolCall
from calls.tooling.simulators.tool_echo_server import EchoServer, EchoSettings
from calls.tools.runner import WebhookTools
from calls.tools.webhooks import (
    EMPTY_OUTPUT,
    MAX_OUTPUT_BYTES,
    WebhookCall,
    call_webhook,
    signed_headers,
)
from calls.vocabulary.tools import WebhookTool

ROOT = Path(__file__).resolve().parents[3]
SECRET = generate_secret()
CALLER = "+15557654321"
# The echo server listens on this machine: an internal address the tests allow.
LOOPBACK = Destinations.from_entries(["127.0.0.1/32", "::1/128"])


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    async with EchoServer(EchoSettings(secret=SECRET)) as server:
        yield server


def tools_for(url: str, *, secret: str = SECRET, timeout: int = 5) -> WebhookTools:
    tool = WebhookTool(
        name="lookup_order",
        description="Look up an order.",
        url=url,
        parameters={"type": "object"},
        timeout_seconds=timeout,
    )
    return WebhookTools(
        [tool],
        {"lookup_order": secret},
        call_sid="CA123",
        assistant="Front desk",
        caller_number=CALLER,
        destinations=LOOPBACK,
    )


def run(arguments: str = '{"order_id":"A17"}', name: str = "lookup_order") -> RunTool:
    return RunTool(call_id="call_1", name=name, arguments=arguments)


def call(url: str, **overrides: Any) -> WebhookCall:
    fields: dict[str, Any] = {
        "url": url,
        "secret": SECRET,
        "tool": "lookup_order",
        "arguments": {"order_id": "A17"},
        "call_sid": "CA123",
        "assistant": "Front desk",
        "caller_number": CALLER,
        "timeout_seconds": 5,
        "destinations": LOOPBACK,
    }
    return WebhookCall(**(fields | overrides))


def error_of(output: str) -> str:
    value = json.loads(output)
    assert set(value) == {"error"}
    return str(value["error"])


async def test_it_posts_a_signed_request_and_returns_the_answer(
    echo: EchoServer,
) -> None:
    result = await tools_for(echo.url)(run())

    assert result.status == TOOL_OK
    assert json.loads(result.output) == {"order_id": "A17"}
    [request] = echo.received
    assert request.verified
    # Verifiable by anyone with the secret and the standard's library...
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload == {
        "call_sid": "CA123",
        "assistant": "Front desk",
        "tool": "lookup_order",
        "arguments": {"order_id": "A17"},
        "caller": {"number": CALLER},
    }
    # ...and by hand: v1 = base64 HMAC-SHA256 of "id.timestamp.body".
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 10
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + request.body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


async def test_it_signs_each_request_with_a_new_id(echo: EchoServer) -> None:
    tools = tools_for(echo.url)
    await tools(run())
    await tools(run('{"order_id":"B2"}'))
    ids = {r.headers["webhook-id"] for r in echo.received}
    assert len(ids) == 2
    assert all(r.verified for r in echo.received)


def test_it_makes_the_standard_headers_for_a_fixed_id_and_time() -> None:
    headers = signed_headers(SECRET, b'{"a":1}', message_id="msg_1", now=1700000000.7)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, b'msg_1.1700000000.{"a":1}', hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


async def test_it_times_out_a_slow_tool(echo: EchoServer) -> None:
    echo.settings.delay = 2.0
    started = time.monotonic()
    result = await call_webhook(call(echo.url, timeout_seconds=0.3))
    elapsed = time.monotonic() - started
    assert result.status == TOOL_TIMEOUT
    assert "did not answer within 0.3 seconds" in error_of(result.output)
    assert elapsed < 1.5


async def test_it_uses_the_tools_timeout_seconds(echo: EchoServer) -> None:
    echo.settings.delay = 3.0
    started = time.monotonic()
    result = await tools_for(echo.url, timeout=1)(run())
    assert result.status == TOOL_TIMEOUT
    assert 0.9 < time.monotonic() - started < 2.5


async def test_it_reports_a_failing_tool(echo: EchoServer) -> None:
    echo.settings.status = 500
    result = await tools_for(echo.url)(run())
    assert result.status == TOOL_ERROR
    assert error_of(result.output) == "the lookup_order tool failed (HTTP 500)"


async def test_it_does_not_follow_a_redirect(echo: EchoServer) -> None:
    async with EchoServer(EchoSettings(secret=SECRET)) as elsewhere:
        echo.settings.redirect_to = elsewhere.url
        result = await tools_for(echo.url)(run())
        assert elsewhere.received == []
    assert result.status == TOOL_ERROR
    assert "redirect" in error_of(result.output)
    assert len(echo.received) == 1


async def test_it_refuses_an_oversize_answer(echo: EchoServer) -> None:
    echo.settings.pad_bytes = MAX_OUTPUT_BYTES + 100
    result = await tools_for(echo.url)(run())
    assert result.status == TOOL_ERROR
    assert "too long" in error_of(result.output)
    assert len(result.output) < 200  # no part of the body reaches the model


async def test_it_accepts_an_answer_just_under_the_cap(echo: EchoServer) -> None:
    echo.settings.pad_bytes = MAX_OUTPUT_BYTES - 200
    result = await tools_for(echo.url)(run())
    assert result.status == TOOL_OK
    assert json.loads(result.output)["arguments"] == {"order_id": "A17"}


async def test_it_refuses_a_chunked_oversize_answer() -> None:
    # No Content-Length: the cap holds while reading.
    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"x" * 1024)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/", big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        result = await call_webhook(call(f"http://127.0.0.1:{port}/"))
    finally:
        await runner.cleanup()
    assert result.status == TOOL_ERROR
    assert "too long" in error_of(result.output)


async def test_it_passes_a_text_answer_and_fills_an_empty_one() -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="Order A17 ships on Tuesday.")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/text", text)
    app.router.add_post("/empty", empty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        spoken = await call_webhook(call(base + "/text"))
        nothing = await call_webhook(call(base + "/empty"))
    finally:
        await runner.cleanup()
    assert (spoken.status, spoken.output) == (TOOL_OK, "Order A17 ships on Tuesday.")
    assert (nothing.status, nothing.output) == (TOOL_OK, EMPTY_OUTPUT)


async def test_it_reports_a_bad_secret_refused_with_401(echo: EchoServer) -> None:
    result = await tools_for(echo.url, secret=generate_secret())(run())
    assert result.status == TOOL_ERROR
    assert error_of(result.output) == "the lookup_order tool failed (HTTP 401)"
    assert [r.verified for r in echo.received] == [False]


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "javascript:alert(1)", "http://"]
)
async def test_it_refuses_a_url_that_is_not_http(url: str) -> None:
    result = await tools_for(url)(run())
    assert result.status == TOOL_ERROR
    assert "not http" in error_of(result.output)


async def test_it_reports_a_tool_it_cannot_reach() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await tools_for(f"http://127.0.0.1:{port}/")(run())
    assert result.status == TOOL_ERROR
    assert error_of(result.output) == "the lookup_order tool could not be reached"


async def test_it_refuses_a_missing_or_malformed_secret(echo: EchoServer) -> None:
    for secret in ("", "whsec_***not-base64***"):
        result = await tools_for(echo.url, secret=secret)(run())
        assert result.status == TOOL_ERROR
        assert "misconfigured" in error_of(result.output)
        assert "not-base64" not in result.output
    assert echo.received == []


async def test_it_answers_bad_arguments_and_unknown_tools_with_errors(
    echo: EchoServer,
) -> None:
    tools = tools_for(echo.url)
    for arguments in ("{not json", "[1, 2]", '"text"'):
        result = await tools(run(arguments))
        assert result.status == TOOL_ERROR
        assert "JSON object" in error_of(result.output)
    unknown = await tools(run(name="delete_everything"))
    assert unknown.status == TOOL_ERROR
    assert error_of(unknown.output) == "there is no tool delete_everything"
    assert echo.received == []
    # No arguments at all is an empty object.
    assert (await tools(run(""))).status == TOOL_OK
    assert json.loads(echo.received[-1].body)["arguments"] == {}
    assert "lookup_order" in tools and "delete_everything" not in tools
    assert SECRET not in repr(tools)


async def test_it_can_share_a_client_session(echo: EchoServer) -> None:
    async with aiohttp.ClientSession() as session:
        first = await call_webhook(call(echo.url), session=session)
        second = await call_webhook(call(echo.url), session=session)
    assert first.status == second.status == TOOL_OK
    assert len(echo.received) == 2


async def test_it_logs_no_secret_body_or_number_above_debug(
    echo: EchoServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await tools_for(echo.url)(run('{"order_id":"SECRET-ORDER-77"}'))
        echo.settings.status = 500
        await tools_for(echo.url)(run('{"order_id":"SECRET-ORDER-77"}'))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    text = "\n".join(lines)
    assert "webhook tool lookup_order: ok" in text
    assert "webhook tool lookup_order: error (HTTP 500)" in text
    for leak in (SECRET, "SECRET-ORDER-77", CALLER, echo.url):
        assert leak not in text


def test_it_serves_the_echo_server_from_the_command() -> None:
    secret = generate_secret()
    env = os.environ | {"DATABASE_URL": "", "REDIS_URL": ""}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "tool_echo_server",
            "--port",
            "0",
            "--secret",
            secret,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.rsplit(" ", 1)[-1].strip()
        good = asyncio.run(call_webhook(call(url, secret=secret)))
        bad = asyncio.run(call_webhook(call(url, secret=generate_secret())))
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (good.status, json.loads(good.output)) == (TOOL_OK, {"order_id": "A17"})
    assert error_of(bad.output) == "the lookup_order tool failed (HTTP 401)"


def test_it_refuses_a_bad_secret_on_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "tool_echo_server", "--secret", "nope"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": "", "REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "must start with" in result.stderr


async def test_it_round_trips_a_simulated_function_call_through_the_echo_server(
    echo: EchoServer,
) -> None:
    # The Realtime simulator calls the tool; its output is what it speaks next.
    sim = RealtimeSimulator(
        first_audio_delay_ms=10,
        transcription_delay_ms=10,
        realtime_factor=0,
        ms_per_char=5,
        tool_calls=[ScriptedToolCall("lookup_order", '{"order_id":"A17"}')],
    )
    await sim.start()
    try:
        ws = await open_session(sim)
        await configure(ws)
        await send_audio(
            ws, audio.silence(400) + audio.speech_like(900) + audio.silence(400)
        )
        done = (await recv_until(ws, "response.done"))[-1]["response"]
        [item] = done["output"]
        result = await tools_for(echo.url)(
            RunTool(
                call_id=item["call_id"], name=item["name"], arguments=item["arguments"]
            )
        )
        output = {"call_id": item["call_id"], "output": result.output}
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", **output},
                }
            )
        )
        await ws.send(json.dumps({"type": "response.create"}))
        events = await recv_until(ws, "response.done")
        await ws.close()
    finally:
        await sim.stop()
    spoken = events[-1]["response"]["output"][0]["content"][0]["transcript"]
    assert spoken == 'The result is: {"order_id": "A17"}'
    assert sim.connections[0].tool_outputs == [output]


async def test_it_turns_an_unexpected_failure_into_an_error_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise UnicodeError("surprise")

    monkeypatch.setattr("calls.tools.webhooks._exchange", broken)
    result = await call_webhook(call("http://127.0.0.1:9/"))
    assert result.status == TOOL_ERROR
    assert error_of(result.output) == "the lookup_order tool failed"
