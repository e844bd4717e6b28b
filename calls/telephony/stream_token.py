"""Stream tokens: the voice webhook's signed promise that a call may open a stream.

The voice webhook mints a token binding one CallSid (the call row it has just
routed already records which assistant answers) and puts it in the ``<Stream>``
URL as a path segment (``/twilio/media-stream/<token>/``). The media consumer
verifies it on the WebSocket upgrade, before it opens the Realtime leg. A token is
short-lived; single use is enforced in the database by
``calls.services.lifecycle.call_claim_stream``, not here.

A call can have several streams (the caller came back to the assistant after a
transfer nobody answered): each token names its stream's number (``n``, absent
for the first), and the claim accepts stream N only while the call has had N-1,
so a token works once per stream and an older stream's token never again. A
later stream's token also names why the call goes on (``r``, e.g.
``transfer_unanswered``): what the assistant says first depends on it.

Format: ``<payload>.<signature>``, both unpadded base64url, so the token is safe in a
URL path (no ``/``, ``?``, ``%`` or ``=``). The payload is compact JSON; the
signature is HMAC-SHA256 under a key derived from the given secret (Django's
``SECRET_KEY``), so a token cannot be reused as any other kind of signed value.

Pure module: imports nothing from Django or from our apps.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass

# Separates this use of the secret from every other (Django's own signing, ...).
_KEY_CONTEXT = b"voiceassistant.calls.stream_token.v1"
_SEPARATOR = "."
# Generous for a CallSid (34 chars) and an expiry; anything longer is not ours.
_MAX_TOKEN_LENGTH = 512
# Two runs of the base64url alphabet; checked before any decoding or hashing.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_REASON_SHAPE = re.compile(r"[a-z_]{1,32}")


@dataclass(frozen=True)
class StreamClaims:
    """What a valid token says: this call may open its stream until then."""

    call_sid: str
    expires_at: float
    stream: int = 1  # the call's first stream is 1
    # Why a later stream continues the call (``continuation.RESUME_REASONS``).
    reason: str = ""


class InvalidToken(Exception):
    """The token cannot be used. ``str(exc)`` is the reason.

    One of ``"malformed"``, ``"bad signature"`` or ``"expired"``.
    """


def mint(
    *,
    call_sid: str,
    secret: str,
    ttl_seconds: int,
    now: float,
    stream: int = 1,
    reason: str = "",
) -> str:
    """A token letting ``call_sid`` open stream number ``stream`` for
    ``ttl_seconds``; ``reason``: why that (later) stream continues the call."""
    if not call_sid:
        raise ValueError("call_sid must not be empty")
    if not secret:
        raise ValueError("secret must not be empty")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    if stream < 1:
        raise ValueError("stream must be 1 or more")
    if reason and not _REASON_SHAPE.fullmatch(reason):
        raise ValueError("reason must be a short snake_case word")
    claims: dict[str, object] = {"s": call_sid, "e": float(now + ttl_seconds)}
    if stream != 1:  # the first stream's token is unchanged from before
        claims["n"] = stream
    if reason:
        claims["r"] = reason
    payload = _b64encode(
        json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    )
    return payload + _SEPARATOR + _b64encode(_sign(payload, secret))


def verify(token: str, *, secret: str, now: float) -> StreamClaims:
    """The token's claims, or ``InvalidToken`` saying why it cannot be used."""
    payload, signature = _split(token)
    if not secret or not hmac.compare_digest(signature, _sign(payload, secret)):
        raise InvalidToken("bad signature")
    claims = _parse_claims(payload)
    if now >= claims.expires_at:
        raise InvalidToken("expired")
    return claims


def _split(token: str) -> tuple[str, bytes]:
    if (
        not isinstance(token, str)
        or len(token) > _MAX_TOKEN_LENGTH
        or not _TOKEN_SHAPE.fullmatch(token)
    ):
        raise InvalidToken("malformed")
    payload, signature = token.split(_SEPARATOR)
    return payload, _b64decode(signature)


def _parse_claims(payload: str) -> StreamClaims:
    try:
        data = json.loads(_b64decode(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed") from exc
    if not isinstance(data, dict):
        raise InvalidToken("malformed")
    call_sid, expires_at = data.get("s"), data.get("e")
    stream = data.get("n", 1)
    reason = data.get("r", "")
    if (
        not isinstance(call_sid, str)
        or not call_sid
        or not isinstance(expires_at, float)
        or not math.isfinite(expires_at)
        or type(stream) is not int
        or not 1 <= stream <= 1000
        or not isinstance(reason, str)
        or (reason and not _REASON_SHAPE.fullmatch(reason))
    ):
        raise InvalidToken("malformed")
    return StreamClaims(
        call_sid=call_sid, expires_at=expires_at, stream=stream, reason=reason
    )


def _sign(payload: str, secret: str) -> bytes:
    key = hmac.new(_KEY_CONTEXT, secret.encode(), hashlib.sha256).digest()
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # validate=True: the default decoder silently skips stray characters.
    try:
        return base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=b"-_", validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed") from exc
