"""Listen-in load for the benchmark: one staff "listener" on every call.

``make bench BENCH_ARGS="--listen on"`` puts the cost of listen-in in the table:
this joins every call's listen group on Redis (``calls.runtime.bus.listen``), tells
each call's runner that someone listens (renewed like a browser does) and drains
the batches, counting them. ``--listen off`` runs the same scenarios on Redis with
nobody listening: the baseline. No Django: channels_redis is used directly.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

RENEW_S = 5.0  # calls.runtime.bus.listen.RENEW_SECONDS


class Listeners:
    def __init__(self, redis_url: str, call_sids: list[str]) -> None:
        from channels_redis.core import RedisChannelLayer

        # A large capacity: one receiver drains every call's batches.
        self.layer = RedisChannelLayer(hosts=[redis_url], capacity=100_000)
        self.call_sids = call_sids
        self.channel = ""
        self.batches = 0
        self.payloads = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        for sid in self.call_sids:
            await self.layer.group_add(f"call-listen.{sid}", self.channel)
        await self._tell(on=True)
        self.tasks = [
            asyncio.create_task(self._drain()),
            asyncio.create_task(self._renew()),
        ]

    async def stop(self) -> dict[str, Any]:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._tell(on=False)
        return {"listen_batches": self.batches, "listen_payloads": self.payloads}

    async def _tell(self, *, on: bool) -> None:
        for sid in self.call_sids:
            await self.layer.group_send(
                f"call-control.{sid}",
                {"type": "call.listen", "listener": self.channel, "on": on},
            )

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            await self._tell(on=True)

    async def _drain(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            self.batches += 1
            self.payloads += len(message.get("caller") or ())
            self.payloads += len(message.get("assistant") or ())
