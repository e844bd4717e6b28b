"""The stale-call sweep, run in the background of every serving process.

``calls.services.lifecycle.calls_close_stale`` ends calls whose process died (no
heartbeat for a few beats) and calls whose stream never opened before its token
expired. Every serving process runs it every ``CALLS_SWEEP_SECONDS``: with several
processes the sweeps overlap harmlessly, because only calls nobody is heartbeating
qualify and finishing a call is idempotent. ``manage.py calls close-stale`` does the
same once, by hand or from cron. Started once per process by the ASGI application's
first request or upgrade (``ensure_started``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async as db

from calls.conf import app_settings
from calls.services.lifecycle import StaleCall, calls_close_stale

logger = logging.getLogger(__name__)

SWEEP_ERROR = "closed as stale by the server's sweep (no process was running it)"

_task: asyncio.Task[None] | None = None


def ensure_started() -> None:
    """Start this process's sweep if it is not running (call from the event loop)."""
    global _task
    if _task is not None and not _task.done():
        return
    interval = app_settings().calls_sweep_seconds
    if interval <= 0:
        return
    _task = asyncio.get_running_loop().create_task(sweep_forever(interval))


async def sweep_forever(interval: float) -> None:
    while True:
        await sweep_once()
        await asyncio.sleep(interval)


async def sweep_once() -> list[StaleCall]:
    """One sweep; failures are logged and the next sweep tries again."""
    try:
        closed = await db(calls_close_stale)(error=SWEEP_ERROR)
    except Exception:
        logger.exception("stale-call sweep failed; retrying in the next sweep")
        return []
    for stale in closed:
        logger.warning("closed stale call %s (%s)", stale.call_sid, stale.end_reason)
    return closed


class StartSweeper:
    """ASGI wrapper: the first request or upgrade starts the sweep."""

    def __init__(self, app: Any) -> None:
        self.app = app  # any ASGI application (Channels' router here)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ensure_started()  # once per connection, not per frame: a cheap no-op
        await self.app(scope, receive, send)
