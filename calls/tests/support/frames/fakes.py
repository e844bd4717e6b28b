"""A scripted Realtime connection and connector for consumer tests (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any


class FakeLeg:
    """Plays the Realtime server: records what we send, yields what a test pushes."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self._changed = asyncio.Event()

    async def send(self, text: str) -> None:
        if self.closed:
            raise ConnectionError("closed")
        self.sent.append(json.loads(text))
        self._changed.set()

    async def __aiter__(self) -> AsyncIterator[str]:
        while (message := await self.inbox.get()) is not None:
            yield message

    async def close(self) -> None:
        if not self.closed:
            self.closed, self.close_code = True, 1000
            self.inbox.put_nowait(None)
        self._changed.set()

    def push(self, *messages: str) -> None:
        for message in messages:
            self.inbox.put_nowait(message)

    def drop(self, code: int = 1006, reason: str = "") -> None:
        """The server goes away mid-call."""
        self.closed, self.close_code, self.close_reason = True, code, reason
        self.inbox.put_nowait(None)

    def types(self) -> list[str]:
        return [e["type"] for e in self.sent]

    async def wait_for(self, kind: str, count: int = 1, within: float = 3) -> None:
        async with asyncio.timeout(within):
            while self.types().count(kind) < count:
                self._changed.clear()
                await self._changed.wait()

    async def wait_closed(self, within: float = 3) -> None:
        async with asyncio.timeout(within):
            while not self.closed:
                self._changed.clear()
                await self._changed.wait()


class FakeConnector:
    """Stands in for ``realtime.connect``; can fail or hold the connect open."""

    def __init__(
        self, leg: FakeLeg | None = None, error: Exception | None = None
    ) -> None:
        self.leg = leg or FakeLeg()
        self.error = error
        self.gate: asyncio.Event | None = None
        self.calls: list[tuple[str, dict[str, str], float]] = []

    async def __call__(
        self, url: str, *, headers: Mapping[str, str], open_timeout: float
    ) -> FakeLeg:
        self.calls.append((url, dict(headers), open_timeout))
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.leg
