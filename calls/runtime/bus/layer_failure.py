"""Why the channel layer failed, in words a supervisor understands, and a log that
says it once instead of once per message.

A Redis outage makes every publish fail in the same way, many times a second; a
traceback per failure buries the one line that matters. ``OutageLog`` logs the
first failure with its cause, then counts the rest and reports the count at most
once per interval, and says when the layer works again. No Django.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

LAYER_UNREACHABLE = "the channel layer (Redis) is unreachable"
# How often an outage that goes on is reported again (with the count).
REPORT_EVERY_SECONDS = 60.0


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_connection_failure(exc: BaseException) -> bool:
    # redis-py's ConnectionError and TimeoutError are not OSError subclasses;
    # match them by name so this module needs no redis import.
    names = {cls.__name__ for cls in type(exc).__mro__}
    return isinstance(exc, OSError | TimeoutError) or bool(
        names & {"ConnectionError", "TimeoutError", "BusyLoadingError"}
    )


def describe(exc: BaseException) -> str:
    """One sentence: why the channel layer did not take a message."""
    for cause in _chain(exc):
        if _is_connection_failure(cause):
            detail = str(cause) or type(cause).__name__
            return f"{LAYER_UNREACHABLE} ({detail[:200]})"
    detail = str(exc) or type(exc).__name__
    return f"the channel layer failed ({type(exc).__name__}: {detail[:200]})"


class OutageLog:
    """Logs a run of channel-layer failures once, with the cause, then a count."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        every: float = REPORT_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what  # e.g. "live events are not reaching viewers"
        self.every = every
        self.clock = clock
        self.failing = False
        self.suppressed = 0
        self.last_report = 0.0

    def failed(self, exc: BaseException) -> None:
        now = self.clock()
        if not self.failing:
            self.failing = True
            self.suppressed = 0
            self.last_report = now
            self.logger.error(
                "%s: %s; further failures are counted and reported every %g s",
                self.what,
                describe(exc),
                self.every,
            )
            return
        self.suppressed += 1
        if now - self.last_report >= self.every:
            self.logger.error(
                "%s: %s; %d more failures in the last %g s",
                self.what,
                describe(exc),
                self.suppressed,
                now - self.last_report,
            )
            self.suppressed = 0
            self.last_report = now

    def succeeded(self) -> None:
        if self.failing:
            self.failing = False
            self.logger.warning(
                "the channel layer works again (%d failures not logged one by one)",
                self.suppressed,
            )
            self.suppressed = 0


async def probe(layer: Any, *, within: float = 2.0) -> str | None:
    """Why ``layer`` cannot carry a message (a send and receive on a fresh
    channel), or None if it can."""
    nonce = uuid.uuid4().hex
    try:
        async with asyncio.timeout(within):
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "health.ping", "nonce": nonce})
            message = await layer.receive(channel)
    except TimeoutError:
        return f"{LAYER_UNREACHABLE} (no answer within {within:g} s)"
    except Exception as exc:
        return describe(exc)
    if message.get("nonce") != nonce:
        return "the channel layer answered with someone else's message"
    return None
