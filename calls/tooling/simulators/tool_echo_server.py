"""A webhook tool endpoint for trying tools out: checks the signature, echoes.

``manage.py tool_echo_server --port 8787 --secret whsec_...`` serves it; tests run
``EchoServer`` on a free port. Every POST (any path) is verified with the
``standardwebhooks`` package against the secret: a bad or missing signature, or a
stale timestamp, gets 401. A verified request is answered with its ``arguments``
as JSON, after ``delay`` seconds, with ``status`` (e.g. 500 to see how the
assistant apologises). ``pad_bytes`` adds a filler field to make big answers;
``redirect_to`` answers 302 to that URL. The settings are read on each request,
so a test may change them on a running server. Requests are kept in ``received``.

Nothing is logged above DEBUG but the tool name and the outcome: the body holds
the caller's number and whatever the model said.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook

logger = logging.getLogger(__name__)


@dataclass
class EchoSettings:
    secret: str
    delay: float = 0.0  # seconds before answering
    status: int = 200
    pad_bytes: int = 0  # this many extra bytes in the answer (a "padding" field)
    redirect_to: str = ""  # answer 302 with this Location instead


@dataclass
class Received:
    """One request as the echo server saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any = None


@dataclass
class EchoServer:
    settings: EchoSettings
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port; ``port`` holds it once started
    received: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> None:
        # Checks the secret now: a bad one should fail the command, not each request.
        Webhook(self.settings.secret)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EchoServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        settings = self.settings
        body = await request.read()
        headers = {key.lower(): value for key, value in request.headers.items()}
        try:
            payload = Webhook(settings.secret).verify(body, headers)
        except Exception:  # WebhookVerificationError, malformed headers, bad JSON
            self.received.append(Received(request.path, headers, body, False))
            logger.info("tool echo: refused a request (bad signature)")
            return web.json_response({"error": "invalid signature"}, status=401)
        self.received.append(Received(request.path, headers, body, True, payload))
        tool = payload.get("tool") if isinstance(payload, dict) else None
        logger.info("tool echo: %s verified", tool)
        logger.debug("tool echo payload: %s", body[:2000])
        if settings.delay > 0:
            await asyncio.sleep(settings.delay)
        if settings.redirect_to:
            raise web.HTTPFound(settings.redirect_to)
        arguments = payload.get("arguments") if isinstance(payload, dict) else None
        if settings.status >= 400:
            answer: Any = {"error": f"echo server answering {settings.status}"}
        else:
            answer = arguments if arguments is not None else {}
        if settings.status in (204, 304):
            return web.Response(status=settings.status)  # no body allowed
        if settings.pad_bytes > 0:
            answer = {"arguments": answer, "padding": "x" * settings.pad_bytes}
        return web.Response(
            text=json.dumps(answer),
            status=settings.status,
            content_type="application/json",
        )
