"""Twilio request signatures for the webhooks and the media-stream upgrade.

Twilio signs every request with ``X-Twilio-Signature``: HMAC-SHA1 under the account's
Auth Token over the exact URL it requested plus the sorted POST parameters. Behind a
TLS-terminating proxy Django does not see that URL, so it is rebuilt from
``settings.PUBLIC_BASE_URL`` (falling back to what the request says when unset).
The WebSocket upgrade of a media stream is signed too, over the ``wss://`` URL from
the TwiML with no parameters.

Without ``TWILIO_AUTH_TOKEN`` nothing can be checked: that is allowed (with a warning)
only while ``DEBUG`` is on; otherwise the endpoints answer 503.

Reference: https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from twilio.request_validator import RequestValidator

from calls.telephony import identifiers
from calls.telephony.log_redaction import redact
from calls.websecurity.hosts import host_is_allowed

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
MEDIA_STREAM_PATH = "/twilio/media-stream/{token}/"

View = Callable[..., HttpResponse]


def public_url(request: HttpRequest, path: str | None = None) -> str:
    """The absolute URL Twilio uses for ``path`` (default: this request's path)."""
    path = request.get_full_path() if path is None else path
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


def stream_url(request: HttpRequest, token: str) -> str:
    """``wss://<public host>/twilio/media-stream/<token>/`` for the TwiML answer."""
    return _websocket_origin(request.get_host()) + MEDIA_STREAM_PATH.format(token=token)


def twilio_params(request: HttpRequest) -> Mapping[str, Any]:
    """The request's Twilio parameters: the form body, or the query for a GET."""
    return request.GET if request.method == "GET" else request.POST


def request_is_valid(request: HttpRequest) -> bool:
    """Does the request carry Twilio's signature over its public URL?"""
    url = public_url(request)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    # A GET's parameters are in the signed URL itself. JSON bodies are signed via
    # a bodySHA256 query parameter, which the validator checks against the body.
    params: Any = {} if request.method == "GET" else request.POST
    if "bodySHA256" in request.GET:
        params = request.body.decode("utf-8", errors="replace")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(validator.validate(url, params, signature))  # the library is untyped


def twilio_webhook(view: View) -> View:
    """Accept GET or POST from Twilio only: 403 unsigned, 503 unconfigured, 400
    for identifiers that are not Twilio's."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.TWILIO_AUTH_TOKEN:
            if not settings.DEBUG:
                logger.error(
                    "refused %s: TWILIO_AUTH_TOKEN is not set and DEBUG is off, so "
                    "Twilio's signature cannot be checked",
                    request.path,
                )
                return HttpResponse(
                    "Twilio webhooks are not configured: set TWILIO_AUTH_TOKEN.\n",
                    status=503,
                    content_type="text/plain",
                )
            logger.warning(
                "accepting %s WITHOUT a signature check: TWILIO_AUTH_TOKEN is not "
                "set (allowed only because DEBUG is on)",
                request.path,
            )
        elif not request_is_valid(request):
            # The URL without its query: a GET's query holds the caller's number.
            logger.warning(
                "refused %s: missing or invalid %s (checked against %s; is "
                "PUBLIC_BASE_URL the URL configured in Twilio?)",
                request.path,
                SIGNATURE_HEADER,
                public_url(request, request.path),
            )
            return HttpResponse(
                "Invalid Twilio signature.\n", status=403, content_type="text/plain"
            )
        # Before the view writes anything: a bad CallSid is a 500 on PostgreSQL
        # and a call that can never stream on SQLite.
        if problem := identifiers.webhook_problem(twilio_params(request)):
            return HttpResponse(problem + "\n", status=400, content_type="text/plain")
        return view(request, *args, **kwargs)

    return csrf_exempt(require_http_methods(["GET", "POST"])(wrapper))


def websocket_request_is_valid(scope: Mapping[str, Any]) -> bool:
    """Does a media-stream upgrade carry Twilio's signature over its wss:// URL?"""
    if not settings.TWILIO_AUTH_TOKEN:
        if settings.DEBUG:
            logger.warning(
                "accepting media stream %s WITHOUT a signature check: "
                "TWILIO_AUTH_TOKEN is not set (allowed only because DEBUG is on)",
                redact(scope.get("path", "")),
            )
            return True
        logger.error(
            "refused media stream %s: TWILIO_AUTH_TOKEN is not set and DEBUG is off",
            redact(scope.get("path", "")),
        )
        return False
    headers = _scope_headers(scope)
    signature = headers.get("x-twilio-signature", "")
    if not signature:
        return False
    host = headers.get("host", "")
    if not host_is_allowed(host):
        # Django answers such an HTTP request 400; without PUBLIC_BASE_URL the
        # signature below would be checked over whatever Host was sent.
        logger.warning(
            "refused media stream: Host %.100r is not in ALLOWED_HOSTS", host
        )
        return False
    url = _websocket_origin(host) + scope.get("path", "")
    query = scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(validator.validate(url, {}, signature))


def _websocket_origin(host: str) -> str:
    """PUBLIC_BASE_URL with https -> wss (http -> ws), else ``wss://<host>``."""
    base = settings.PUBLIC_BASE_URL
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://")
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://")
    # Twilio only opens wss:// streams, so without a configured origin the host
    # Twilio reached us on (an ngrok tunnel, say) is the best guess.
    return "wss://" + host


def _scope_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    # ASGI header names are lower-case bytes; values are latin-1 per HTTP.
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
