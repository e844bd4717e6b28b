"""Limits both Realtime WebSocket clients apply. No Django."""

from __future__ import annotations

# Server events are mostly small; response.done and long audio deltas are the
# biggest (tens of KiB). 4 MiB leaves room without letting a peer exhaust memory.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_SECONDS = 2.0
