"""Run a ``RealtimeSimulator`` on its own event loop in a background thread.

For synchronous callers (pytest fixtures, management commands, the benchmark) that
need the simulator alongside other work. ``call`` runs a coroutine on the
simulator's loop and returns its result; records can be read from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from calls.tooling.simulators.realtime_server.config import SimulatorConfig
from calls.tooling.simulators.realtime_server.server import RealtimeSimulator

T = TypeVar("T")


class SimulatorThread:
    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        self.simulator = RealtimeSimulator(config, **overrides)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="realtime-simulator", daemon=True
        )

    @property
    def url(self) -> str:
        return self.simulator.url

    def start(self, timeout_s: float = 10.0) -> RealtimeSimulator:
        self._thread.start()
        self.call(self.simulator.start, timeout_s=timeout_s)
        return self.simulator

    def call(
        self,
        function: Callable[..., Coroutine[Any, Any, T]],
        *args: Any,
        timeout_s: float = 10.0,
    ) -> T:
        """Run ``function(*args)`` on the simulator's loop; wait for its result."""
        future = asyncio.run_coroutine_threadsafe(function(*args), self._loop)
        return future.result(timeout_s)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.call(self.simulator.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> RealtimeSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
