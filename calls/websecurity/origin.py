"""``PublicOriginValidator``: the live socket's Origin must be this site's origin.

Channels' ``AllowedHostsOriginValidator`` compares only the Origin's host name
with ``ALLOWED_HOSTS`` and ignores its scheme and port, so a page on
``http://voice.example.com:8080`` (another service on the same host) could open
the staff socket with the viewer's cookies. Here the Origin's scheme, host and
port must equal the public origin (``PUBLIC_BASE_URL``) or the origin the request
itself was made to (its Host header, which must be in ``ALLOWED_HOSTS``, and the
scheme the socket arrived on).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings

from calls.websecurity.hosts import host_is_allowed

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalized_origin(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin, default ports filled in."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def allowed_origins(scope: dict[str, Any]) -> set[tuple[str, str, int]]:
    origins = set()
    if settings.PUBLIC_BASE_URL and (
        public := normalized_origin(settings.PUBLIC_BASE_URL)
    ):
        origins.add(public)
    headers = {
        k.decode("latin-1").lower(): v.decode("latin-1")
        for k, v in scope.get("headers", [])
    }
    host = headers.get("host", "")
    if host and host_is_allowed(host):
        secure = scope.get("scheme") in ("wss", "https") or (
            not settings.DEBUG and headers.get("x-forwarded-proto", "") == "https"
        )
        if own := normalized_origin(("https://" if secure else "http://") + host):
            origins.add(own)
    return origins


class PublicOriginValidator:
    """ASGI wrapper refusing (403) an upgrade whose Origin is not ours."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = next(
            (
                v.decode("latin-1")
                for k, v in scope.get("headers", [])
                if k == b"origin"
            ),
            "",
        )
        parsed = normalized_origin(origin)
        if parsed is None or parsed not in allowed_origins(scope):
            denier = WebsocketDenier()
            # The stubs type Channels' scope as a TypedDict; ours is the raw dict.
            return await denier(scope, receive, send)  # type: ignore[arg-type]
        return await self.application(scope, receive, send)
