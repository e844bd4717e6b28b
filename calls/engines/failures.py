"""Why an engine could not be reached, in words a supervisor understands.

A failure to open an engine's connection comes as one of many exception types
(the resolver's, the TLS layer's, the WebSocket client's HTTP refusal, a
timeout), often wrapped. ``connect_failure`` finds the cause in the chain and says
what it means and what to check, for the admin's "Check this assistant" and for
the call's record. Pure module: no Django.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a refused WebSocket upgrade (websockets' InvalidStatus
    carries ``response.status_code``; others a ``status_code``)."""
    response = getattr(exc, "response", None)
    for holder in (response, exc):
        status = getattr(holder, "status_code", None) or getattr(holder, "status", None)
        if isinstance(status, int) and 100 <= status < 600:
            return status
    return None


def connect_failure(exc: BaseException, *, label: str, within: float) -> str:
    """One sentence: what went wrong opening ``label``'s connection."""
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return (
                f"the address of {label} could not be looked up (DNS): check its "
                "URL setting and this server's name resolution"
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"{label}'s TLS certificate could not be verified: check its URL "
                "(the host name must match the certificate)"
            )
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {label} failed ({cause.reason or cause})"
        status = _http_status(cause)
        if status in (401, 403):
            return f"{label} refused the API key (HTTP {status}): check the key setting"
        if status is not None:
            return f"{label} refused the connection (HTTP {status})"
        if isinstance(cause, ConnectionRefusedError):
            return f"{label} refused the connection: nothing listens at its URL"
        if isinstance(cause, TimeoutError):
            return f"{label} did not answer within {within:g} s"
    detail = str(exc) or type(exc).__name__
    return f"{label} could not be reached ({detail})"
