"""Keep stream tokens out of logs: daphne's access log and our own lines.

A media stream's URL carries its single-use token as a path segment
(``/twilio/media-stream/<token>/``). Until it is claimed, whoever reads it from a
log could open the call's stream, so every line that would print such a path
prints ``/twilio/media-stream/<redacted>/`` instead:

- ``redact`` for our own log lines;
- ``RedactTokensFilter`` on our log handler, and on uvicorn's loggers (which
  write a refused WebSocket's path through handlers of their own);
- ``install_daphne_access_log_redaction()`` for daphne, whose access log is not a
  logger but a stream it writes itself: called from ``voiceassistant.asgi``, which
  daphne imports before it builds its access logger.

``RedactTokensFilter`` is named in the settings' ``LOGGING``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_STREAM_TOKEN = re.compile(r"(/twilio/media-stream/)[^/\s\"?]+")
REDACTED = r"\1<redacted>"


def redact(text: str) -> str:
    """``text`` with every media-stream token replaced by ``<redacted>``."""
    return _STREAM_TOKEN.sub(REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """A handler filter: formats the record's message once, with tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/twilio/media-stream/" in message:
            record.msg, record.args = redact(message), None
        return True


def install_daphne_access_log_redaction() -> None:
    """Make daphne's ``AccessLogGenerator`` write redacted request lines."""
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # served by another server
        return
    if getattr(AccessLogGenerator, "_redacts_tokens", False):
        return
    original = AccessLogGenerator.write_entry

    def write_entry(
        self: Any, host: Any, date: Any, request: str, *a: Any, **k: Any
    ) -> None:
        original(self, host, date, redact(request), *a, **k)

    AccessLogGenerator.write_entry = write_entry
    AccessLogGenerator._redacts_tokens = True
