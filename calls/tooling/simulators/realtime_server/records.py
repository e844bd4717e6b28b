"""What the simulator saw and did on each connection, kept for tests and reports.

Records are written on the simulator's event loop and may be read from another
thread (the e2e harness runs the simulator in one): they only grow, and ``closed``
is a ``threading.Event`` so any thread can wait for the end of a connection.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConnectionRecord:
    id: int
    path: str
    model: str
    auth_header: str  # "authorization" or "api-key": which one the client used
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_code: int | None = None
    # Client events as received. In echo mode appends are only counted.
    events: list[dict[str, Any]] = field(default_factory=list)
    # Server events sent, except response.output_audio.delta (counted below).
    sent: list[dict[str, Any]] = field(default_factory=list)
    appends: int = 0
    audio_in_bytes: int = 0
    deltas_sent: int = 0
    audio_out_bytes: int = 0
    # conversation.item.truncate requests: item_id, audio_end_ms, the item's audio_ms
    # (what had been generated at that moment) and whether it was accepted.
    truncations: list[dict[str, Any]] = field(default_factory=list)
    caller_transcripts: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    # Scripted function calls completed (name, call_id, arguments) and the
    # function_call_output items the client sent back (call_id, output).
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_outputs: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event, repr=False)

    def received(self, event_type: str) -> list[dict[str, Any]]:
        """Client events of one type, in order."""
        return [e for e in self.events if e.get("type") == event_type]

    def sent_of(self, event_type: str) -> list[dict[str, Any]]:
        """Server events of one type, in order."""
        return [e for e in self.sent if e.get("type") == event_type]

    @property
    def error_codes(self) -> list[str]:
        return [e["error"].get("code") or "" for e in self.sent_of("error")]

    @property
    def is_open(self) -> bool:
        return not self.closed.is_set()
