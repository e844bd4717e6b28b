"""An aiohttp resolver that connects only where the outbound policy allows.

aiohttp connects to exactly the addresses its resolver returns, so checking them
here checks the connection itself: a name that resolves to a public address when
the URL is saved and to an internal one later is refused then.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from calls.egress.addresses import Destinations, Refused


class GuardedResolver(AbstractResolver):
    def __init__(self, destinations: Destinations) -> None:
        self._destinations = destinations
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            self._destinations.check_resolved(host, result["host"])
        return results

    async def close(self) -> None:
        await self._resolver.close()


__all__ = ["GuardedResolver", "Refused"]
