"""Ending this process's calls cleanly on SIGTERM, then letting the server stop.

Every running ``CallRunner`` is registered here. The first call that starts in a
process installs a SIGTERM handler (by then the server, daphne or uvicorn, has
installed its own, which we chain to). On SIGTERM each call is ended as
``server_shutdown`` (its stream closes, Twilio requests the ``<Connect action>``
and the caller hears the assistant's unavailable message), the process keeps
serving for a short grace period so those requests are answered, and then the
server's own handler runs and stops it. A second SIGTERM stops it at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

from calls.runtime.runner import CallRunner

logger = logging.getLogger(__name__)

# Long enough for every call's end to be written, bounded so a stuck database
# cannot keep a stopping process alive.
END_CALLS_TIMEOUT_SECONDS = 10.0
# Twilio requests the <Connect action> right after a stream closes.
GRACE_SECONDS = 2.0

live_runners: set[CallRunner] = set()
_installed = False
_shutting_down = False
_previous: Any = None
_task: asyncio.Task[None] | None = None  # held so the shutdown is not collected


def register(runner: CallRunner, *, handle_sigterm: bool = True) -> None:
    live_runners.add(runner)
    if handle_sigterm:
        _install()


def unregister(runner: CallRunner) -> None:
    live_runners.discard(runner)


def _install() -> None:
    global _installed, _previous
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    _previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if _shutting_down:
            _chain(signum, frame)
            return
        loop.call_soon_threadsafe(_start_shutdown, signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    _installed = True


def _start_shutdown(signum: int) -> None:
    global _shutting_down, _task
    _shutting_down = True
    _task = asyncio.ensure_future(_shutdown(signum))


async def _shutdown(signum: int) -> None:
    runners = list(live_runners)
    logger.warning("SIGTERM: ending %d call(s) before stopping", len(runners))
    if runners:
        try:
            async with asyncio.timeout(END_CALLS_TIMEOUT_SECONDS):
                await asyncio.gather(
                    *(r.shut_down() for r in runners), return_exceptions=True
                )
        except TimeoutError:
            logger.error("SIGTERM: calls did not end within the timeout; stopping")
        await asyncio.sleep(GRACE_SECONDS)
    _chain(signum, None)


def _chain(signum: int, frame: FrameType | None) -> None:
    """Run the handler the server installed (or the default: terminate)."""
    previous = _previous
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
