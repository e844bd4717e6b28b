"""First-reply delay in conversation mode: caller stops talking -> first reply audio.

One server process and the Realtime simulator in conversation mode (its own
process); a few calls from the Twilio caller simulator, each with a greeting and
some caller turns. The caller measures, per turn, the time from the end of its
speech to the first assistant frame it receives. Part of that is the simulator
standing in for OpenAI: its VAD waits ``silence_ms`` of audio (which the caller
sends in real time, counted from its last speech frame, which ends its speech)
and then it waits ``first_audio_delay_ms`` before the first delta. The rest is
ours: both legs' sockets, the call runtime, daphne and the caller's own loop.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from calls.tooling.bench.server import (
    CONVERSATION_NUMBER,
    PUBLIC_URL,
    VAD_SILENCE_MS,
    BenchEnvironment,
    ServerGroup,
    StandIn,
)
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    TwilioCaller,
    default_script,
)

FIRST_AUDIO_DELAY_MS = 300
TURNS_PER_CALL = 2


async def _one_call(base_url: str, auth_token: str) -> list[float]:
    options = CallerOptions(
        base_url=base_url,
        public_url=PUBLIC_URL,
        auth_token=auth_token,
        to_number=CONVERSATION_NUMBER,
        script=default_script(turns=TURNS_PER_CALL, speech_ms=1200, quiet_ms=400),
        status_path="",
    )
    report = await TwilioCaller(options).run()
    if report.errors:
        raise RuntimeError("; ".join(report.errors[:3]))
    return report.reply_latencies_ms


def measure(env: BenchEnvironment, *, calls: int, server: str) -> dict[str, Any]:
    """Place ``calls`` conversation calls one after another; the delays, split."""
    options = ["--first-audio-delay-ms", str(FIRST_AUDIO_DELAY_MS)]
    with StandIn(mode="conversation", log_dir=env.log_dir, options=options) as sim:
        env.realtime_url = sim.url
        with ServerGroup(env, kind=server, workers=1) as group:
            latencies: list[float] = []
            errors: list[str] = []
            for _ in range(calls):
                try:
                    latencies += asyncio.run(_one_call(group.urls[0], env.auth_token))
                except Exception as exc:  # reported, not fatal to the benchmark
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
    # The caller counts from its last speech frame (``TurnStats.speech_end_ms``),
    # so the VAD's whole silence wait is the simulator's.
    simulator_ms = VAD_SILENCE_MS + FIRST_AUDIO_DELAY_MS
    total = statistics.median(latencies) if latencies else None
    return {
        "turns": len(latencies),
        "total_ms": total,
        "total_min_ms": min(latencies, default=None),
        "total_max_ms": max(latencies, default=None),
        "simulator_ms": simulator_ms,
        "vad_silence_ms": VAD_SILENCE_MS,
        "first_audio_delay_ms": FIRST_AUDIO_DELAY_MS,
        "ours_ms": None if total is None else total - simulator_ms,
        "ours_min_ms": None if not latencies else min(latencies) - simulator_ms,
        "ours_max_ms": None if not latencies else max(latencies) - simulator_ms,
        "errors": errors,
    }
