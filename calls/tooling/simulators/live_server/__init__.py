"""A local stand-in for OpenAI GPT-Live (``/v1/live/sessions``), for tests and demos.

A sibling of ``realtime_server`` (same scripts, delays, faults and connection
records): ``LiveSimulator`` speaks the GPT-Live protocol (see ``session``) in
"conversation" or "echo" mode; ``LiveSimulatorThread`` runs it on a background
thread. Run it standalone with
``python -m calls.tooling.simulators.live_server --port 8766``.
"""

from __future__ import annotations

from calls.tooling.simulators.live_server.config import LiveConfig
from calls.tooling.simulators.live_server.server import (
    PATH,
    LiveSimulator,
    LiveSimulatorThread,
)
from calls.tooling.simulators.live_server.session import LiveSession

__all__ = ["PATH", "LiveConfig", "LiveSession", "LiveSimulator", "LiveSimulatorThread"]
