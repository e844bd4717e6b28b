"""Webhook tools' HTTP side: one signed POST to the business's system per call.

The request is JSON ``{"call_sid", "assistant", "tool", "arguments", "caller":
{"number"}}`` signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the
tool's ``whsec_`` secret), so the receiver can check it came from us and is fresh.

Whatever happens, the caller gets a ``ToolResult``, never an exception: a 2xx body
(JSON or text, at most 16 KB) is the output; a timeout, a non-2xx or redirect
answer (redirects are not followed: a signed request must not be forwarded
somewhere its signer never named), an oversize body, a refused connection or a
bad URL or secret become ``{"error": "..."}`` for the model to apologise with, and
status TOOL_TIMEOUT or TOOL_ERROR. Logs name the tool, the outcome and the time;
URLs, secrets and bodies only at DEBUG (they may hold customer data or tokens).

Pure module: no Django.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from standardwebhooks import Webhook

from calls.callstate.actions import TOOL_ERROR, TOOL_OK, TOOL_TIMEOUT, ToolResult
from calls.callstate.tool_calls import output
from calls.egress.addresses import Destinations, Refused
from calls.egress.resolver import GuardedResolver

logger = logging.getLogger(__name__)

MAX_OUTPUT_BYTES = 16 * 1024
# The policy with nothing internal allowed: a request built without one is strict.
STRICT = Destinations()
USER_AGENT = "voiceassistant-webhook-tools/1"
# What the model gets for a 2xx answer without a body (e.g. 204).
EMPTY_OUTPUT = '{"ok": true}'


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """One tool call's request, before signing."""

    url: str
    secret: str
    tool: str
    arguments: Any  # the parsed JSON arguments the model gave
    call_sid: str
    assistant: str
    caller_number: str
    timeout_seconds: float = 5.0
    # Where the request may go: public addresses, plus the deployment's list.
    destinations: Destinations = STRICT

    def payload(self) -> bytes:
        body = {
            "call_sid": self.call_sid,
            "assistant": self.assistant,
            "tool": self.tool,
            "arguments": self.arguments,
            "caller": {"number": self.caller_number},
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def error_output(message: str) -> str:
    """The output the model gets when a tool failed: JSON it can explain (the
    call state's own tool outputs are made the same way)."""
    return output(error=message)


def signed_headers(
    secret: str, body: bytes, *, message_id: str | None = None, now: float | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for ``body``. Raises ValueError for a bad secret."""
    message_id = message_id or "msg_" + secrets.token_hex(12)
    stamp = datetime.fromtimestamp(int(time.time() if now is None else now), tz=UTC)
    try:
        signer = Webhook(secret)
    except Exception as exc:  # binascii.Error, EmptyWebhookSecretError, ...
        # Never the secret itself in the message.
        raise ValueError("the webhook secret is not a valid whsec_ secret") from exc
    signature = signer.sign(message_id, stamp, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }


class _Failure(Exception):
    """A tool run that ends in an error output (message, status, HTTP code)."""

    def __init__(self, message: str, status: str = TOOL_ERROR, http: int = 0) -> None:
        super().__init__(message)
        self.message, self.status, self.http = message, status, http


async def call_webhook(
    call: WebhookCall,
    *,
    session: aiohttp.ClientSession | None = None,
    message_id: str | None = None,
) -> ToolResult:
    """POST ``call`` signed and turn whatever comes back into a ``ToolResult``."""
    started = time.monotonic()
    http = 0
    try:
        output, http = await _post(call, session, message_id)
        result = ToolResult(output, TOOL_OK)
    except _Failure as failure:
        http = failure.http
        result = ToolResult(error_output(failure.message), failure.status)
    except Exception as exc:  # a tool must never break the call
        # The type only: a message could quote the URL or the body.
        logger.warning("webhook tool %s: unexpected %s", call.tool, type(exc).__name__)
        logger.debug("webhook tool %s failure", call.tool, exc_info=True)
        result = ToolResult(error_output(f"the {call.tool} tool failed"), TOOL_ERROR)
    ms = round((time.monotonic() - started) * 1000)
    logger.info(
        "webhook tool %s: %s%s in %d ms",
        call.tool,
        result.status,
        f" (HTTP {http})" if http else "",
        ms,
    )
    logger.debug("webhook tool %s output: %s", call.tool, result.output)
    return result


async def _post(
    call: WebhookCall, session: aiohttp.ClientSession | None, message_id: str | None
) -> tuple[str, int]:
    parts = urlsplit(call.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Failure(f"the {call.tool} tool is misconfigured (its URL is not http)")
    if call.destinations.url_problem(call.url):
        logger.warning("webhook tool %s: URL refused (internal address)", call.tool)
        raise _Failure(
            f"the {call.tool} tool is misconfigured (its URL is not allowed)"
        )
    body = call.payload()
    try:
        headers = signed_headers(call.secret, body, message_id=message_id)
    except ValueError as exc:
        raise _Failure(
            f"the {call.tool} tool is misconfigured (no signing secret)"
        ) from exc
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    logger.debug("webhook tool %s: POST %s %s", call.tool, call.url, body[:2000])
    timeout = max(float(call.timeout_seconds), 0.001)
    try:
        async with asyncio.timeout(timeout):
            if session is not None:
                return await _exchange(session, call, body, headers)
            # No proxies from the environment: the URL is exactly where it goes.
            # Every address the host resolves to is checked as it is connected.
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(call.destinations)
            )
            async with aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=timeout),
                trust_env=False,
            ) as own:
                return await _exchange(own, call, body, headers)
    except TimeoutError as exc:
        raise _Failure(
            f"the {call.tool} tool did not answer within {timeout:g} seconds",
            TOOL_TIMEOUT,
        ) from exc
    except Refused as exc:
        logger.warning(
            "webhook tool %s: refused at connect (internal address)", call.tool
        )
        raise _Failure(
            f"the {call.tool} tool is misconfigured (its URL is not allowed)"
        ) from exc
    except aiohttp.ClientError as exc:
        logger.debug("webhook tool %s: %r", call.tool, exc)
        raise _Failure(f"the {call.tool} tool could not be reached") from exc


async def _exchange(
    session: aiohttp.ClientSession,
    call: WebhookCall,
    body: bytes,
    headers: dict[str, str],
) -> tuple[str, int]:
    async with session.post(
        call.url, data=body, headers=headers, allow_redirects=False
    ) as response:
        status = response.status
        if 300 <= status < 400:
            raise _Failure(
                f"the {call.tool} tool answered with a redirect, which is not followed",
                http=status,
            )
        if not 200 <= status < 300:
            raise _Failure(f"the {call.tool} tool failed (HTTP {status})", http=status)
        if (response.content_length or 0) > MAX_OUTPUT_BYTES:
            raise _Failure(_too_long(call.tool), http=status)
        data = await _read_capped(response, call.tool)
        charset = response.charset or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        text = data.decode("utf-8", errors="replace")
    return (text if text.strip() else EMPTY_OUTPUT), status


async def _read_capped(response: aiohttp.ClientResponse, tool: str) -> bytes:
    """The body, refusing (not cutting) one over the cap: half a JSON object
    would only confuse the model."""
    data = bytearray()
    while True:
        chunk = await response.content.read(MAX_OUTPUT_BYTES + 1 - len(data))
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > MAX_OUTPUT_BYTES:
            raise _Failure(_too_long(tool), http=response.status)


def _too_long(tool: str) -> str:
    return f"the {tool} tool's answer is too long (over {MAX_OUTPUT_BYTES // 1024} KB)"
