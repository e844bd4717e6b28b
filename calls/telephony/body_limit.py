"""An early 413 for oversized request bodies on Twilio's webhooks.

Twilio's webhook bodies are a few kilobytes of form fields. Django's ASGI handler
reads a whole body into memory (then a temporary file) before any view or
signature check runs, so an unsigned 256 MB POST would be buffered first. This
ASGI wrapper answers 413 from ``Content-Length`` alone, before the body is read;
a body without ``Content-Length`` (chunked) is counted as it arrives and refused
once it passes the limit. The proxy in front should cap bodies too.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

TWILIO_PATH_PREFIX = "/twilio/"
MAX_TWILIO_BODY_BYTES = 64 * 1024

Scope = dict[str, Any]
App = Any
Receive = Any  # ASGI callables: asgiref's TypedDict unions say little more here
Send = Any


class BodyTooLarge(Exception):
    pass


class TwilioBodyLimit:
    def __init__(self, app: App, max_bytes: int = MAX_TWILIO_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(TWILIO_PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_bytes:
            await self._refuse(scope, send, length)
            return
        received = 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(scope, send, received)

    async def _refuse(self, scope: Scope, send: Send, size: int) -> None:
        logger.warning(
            "refused %s: body of %d+ bytes is over the %d-byte limit",
            scope["path"][:100],
            size,
            self.max_bytes,
        )
        body = f"Request body over {self.max_bytes} bytes.\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
                "trailers": False,
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
