"""What opening the Realtime leg at the upgrade saves: time to the greeting.

With ``ENGINE_CONNECT_ON_UPGRADE`` on, the consumer opens the Realtime connection
as soon as Twilio's upgrade is authorised; off, only when Twilio's ``start`` frame
arrives. The saving is bounded by the gap between the two, so the caller simulator
waits ``start_delay_ms`` between them, and the Realtime stand-in takes
``--slow-start-ms`` to say ``session.created`` (a slow handshake). For each setting
it places a few calls to an assistant with a greeting and reports the median time
from the stream's ``connected`` to the first greeting audio at the caller.

Run: ``python -m calls.tooling.bench.connect`` (or ``make bench-connect``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from calls.tooling.bench.server import (
    CONVERSATION_NUMBER,
    PUBLIC_URL,
    BenchEnvironment,
    ServerGroup,
    StandIn,
    prepare_database,
)
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    HangUp,
    TwilioCaller,
    WaitForReply,
)


async def _greeting_delay(base_url: str, token: str, start_delay_ms: int) -> float:
    options = CallerOptions(
        base_url=base_url,
        public_url=PUBLIC_URL,
        auth_token=token,
        to_number=CONVERSATION_NUMBER,
        script=[WaitForReply(200, timeout_s=10.0), HangUp()],
        status_path="",
        start_delay_ms=start_delay_ms,
    )
    report = await TwilioCaller(options).run()
    if report.first_audio_ms is None:
        raise RuntimeError("no greeting audio: " + "; ".join(report.errors[:3]))
    # first_audio_ms counts from ``start``; the caller waited start_delay_ms before.
    return report.first_audio_ms + start_delay_ms


def measure(
    *, calls: int, delays: list[int], slow_start_ms: int
) -> list[dict[str, Any]]:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    env = BenchEnvironment(
        database_url=f"sqlite:///{log_dir / 'bench.sqlite3'}", log_dir=log_dir
    )
    prepare_database(env)
    options = ["--slow-start-ms", str(slow_start_ms), "--first-audio-delay-ms", "0"]
    rows = []
    with StandIn(mode="conversation", log_dir=log_dir, options=options) as sim:
        env.realtime_url = sim.url
        for early in (True, False):
            env.extra = {"ENGINE_CONNECT_ON_UPGRADE": "true" if early else "false"}
            with ServerGroup(env, kind="daphne", workers=1) as group:
                for delay in delays:
                    samples = [
                        asyncio.run(
                            _greeting_delay(group.urls[0], env.auth_token, delay)
                        )
                        for _ in range(calls)
                    ]
                    rows.append(
                        {
                            "connect": "at upgrade" if early else "at start",
                            "start_delay_ms": delay,
                            "median_ms": statistics.median(samples),
                            "min_ms": min(samples),
                            "max_ms": max(samples),
                        }
                    )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--start-delays", default="0,100,300")
    parser.add_argument("--slow-start-ms", type=int, default=300)
    args = parser.parse_args(argv)
    delays = [int(value) for value in args.start_delays.split(",")]
    rows = measure(calls=args.calls, delays=delays, slow_start_ms=args.slow_start_ms)
    print(  # noqa: T201 (a benchmark prints its figures)
        f"Greeting delay: stream connected -> first greeting audio at the caller, "
        f"median of {args.calls} calls (min-max), Realtime stand-in answering its "
        f"handshake after {args.slow_start_ms} ms"
    )
    for row in rows:
        connect, delay = row["connect"], row["start_delay_ms"]
        low, high = row["min_ms"], row["max_ms"]
        label = f"connect {connect:<10}  start after {delay:>4} ms"
        print(f"  {label}:  {row['median_ms']:7.1f} ms ({low:.1f}-{high:.1f})")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
