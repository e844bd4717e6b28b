"""Settings of the GPT-Live simulator: the Realtime simulator's, plus Live's own.

The scripts, delays and ``Faults`` are the Realtime simulator's
(``realtime_server.config``), so tests and the demo drive both alike; GPT-Live
adds how often usage is reported and paces its output in real time by default
(the real service streams continuously at real-time pace, silence included).
"""

from __future__ import annotations

from dataclasses import dataclass

from calls.tooling.simulators.realtime_server.config import SimulatorConfig


@dataclass
class LiveConfig(SimulatorConfig):
    realtime_factor: float = 1.0
    # session.usage.updated this often (the real service: about once a minute).
    usage_interval_s: float = 1.0
    # Stream silence between answers, as the real service does (False: only speech).
    stream_silence: bool = True
    # How long the session lasts (session.started's expires_at).
    session_seconds: int = 3600
