"""Run a ``RealtimeSimulator`` on its own event loop in a background thread.

For synchronous callers (pytest fixtures, management commands, the benchmark) that
need the simulator alongside other work (``ws_server.BackgroundSimulator``).
"""

from __future__ import annotations

from typing import Any

from calls.tooling.simulators.realtime_server.config import SimulatorConfig
from calls.tooling.simulators.realtime_server.server import RealtimeSimulator
from calls.tooling.simulators.ws_server import BackgroundSimulator


class SimulatorThread(BackgroundSimulator[RealtimeSimulator]):
    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        super().__init__(
            RealtimeSimulator(config, **overrides), thread_name="realtime-simulator"
        )
