"""The webhook echo server on its own event loop and thread, for end-to-end tests
whose simulated caller runs its own loop."""

from __future__ import annotations

import asyncio
import threading

from calls.tooling.simulators.tool_echo_server import EchoServer, EchoSettings


class EchoThread:
    """H3's webhook echo server on its own loop (the caller runs its own)."""

    def __init__(self, secret: str, delay: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = EchoServer(EchoSettings(secret=secret, delay=delay))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> EchoServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(5)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
