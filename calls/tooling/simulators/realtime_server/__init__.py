"""A local stand-in for the OpenAI Realtime API (GA protocol), for tests and demos.

``RealtimeSimulator`` serves ``ws://127.0.0.1:<port>/v1/realtime?model=...`` in two
modes: "conversation" (VAD turns, scripted transcripts and answers with paced audio,
barge-in, truncation, usage) and "echo" (every appended chunk comes straight back as
an audio delta, for the benchmark). Faults on request: bad key, slow start, session
expiry, dropped TCP connection, rejected session.update. Every connection is
recorded in ``.connections``. ``SimulatorThread`` runs it on a background thread.
Run it standalone with
``python -m calls.tooling.simulators.realtime_server --port 8765 --mode conversation``.
"""

from __future__ import annotations

from calls.tooling.simulators.realtime_server.config import (
    DEFAULT_ANSWERS,
    DEFAULT_CALLER_LINES,
    Faults,
    SimulatorConfig,
)
from calls.tooling.simulators.realtime_server.records import ConnectionRecord
from calls.tooling.simulators.realtime_server.server import RealtimeSimulator
from calls.tooling.simulators.realtime_server.thread import SimulatorThread

__all__ = [
    "DEFAULT_ANSWERS",
    "DEFAULT_CALLER_LINES",
    "ConnectionRecord",
    "Faults",
    "RealtimeSimulator",
    "SimulatorConfig",
    "SimulatorThread",
]
