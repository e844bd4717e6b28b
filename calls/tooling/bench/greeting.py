"""Greeting delay: Twilio's ``start`` to the first greeting audio at the caller.

The Realtime stand-in (the simulator in conversation mode) takes
``--slow-start-ms`` to say ``session.created`` (accepting the connection) and
``--first-audio-delay-ms`` before a response's first audio (the model's latency),
300 ms each by default, as a real Realtime API roughly does. The calls are placed
one after another (the delay of an idle server, not of a loaded one) to an
assistant with a greeting; the caller sends ``start`` right after ``connected``,
as Twilio does. Reports p50/p95 and what of it is not the stand-in's fixed delays.
``--set VAR=VALUE`` passes settings to the server. Each run measures twice, with
the greeting cache on and off (``GREETING_CACHE``); with ``--workers N`` the calls
go round-robin over N server processes (as streams landing on any process would)
and the warm-up call only reaches the first, so the count of fast-path calls (a
greeting sooner than the stand-in can even accept a connection) shows how often a
process had not captured the greeting yet.

Run: ``python -m calls.tooling.bench.greeting`` (or ``make bench-greeting``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from calls.ops.servers import PRODUCTION_SERVER
from calls.tooling.bench.server import (
    CONVERSATION_NUMBER,
    PUBLIC_URL,
    BenchEnvironment,
    ServerGroup,
    StandIn,
    prepare_database,
)
from calls.tooling.bench.stats import percentile
from calls.tooling.servers.commands import SERVERS
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    HangUp,
    TwilioCaller,
    WaitForReply,
)


async def greeting_ms(base_url: str, token: str) -> float:
    """One call's time from ``start`` to its first greeting audio frame."""
    options = CallerOptions(
        base_url=base_url,
        public_url=PUBLIC_URL,
        auth_token=token,
        to_number=CONVERSATION_NUMBER,
        script=[WaitForReply(200, timeout_s=10.0), HangUp()],
        status_path="",
    )
    report = await TwilioCaller(options).run()
    if report.first_audio_ms is None:
        raise RuntimeError("no greeting audio: " + "; ".join(report.errors[:3]))
    return report.first_audio_ms


def measure(
    *,
    server: str,
    calls: int,
    accept_ms: int,
    first_audio_ms: int,
    extra: dict[str, str],
    workers: int = 1,
) -> dict[str, Any]:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-greeting-"))
    env = BenchEnvironment(
        database_url=f"sqlite:///{log_dir / 'bench.sqlite3'}", log_dir=log_dir
    )
    prepare_database(env)
    options = [
        *["--slow-start-ms", str(accept_ms)],
        *["--first-audio-delay-ms", str(first_audio_ms)],
    ]
    with StandIn(mode="conversation", log_dir=log_dir, options=options) as sim:
        env.realtime_url = sim.url
        env.extra = extra
        with ServerGroup(env, kind=server, workers=workers) as group:
            urls = group.urls
            asyncio.run(greeting_ms(urls[0], env.auth_token))  # warm-up
            samples = sorted(
                asyncio.run(greeting_ms(urls[i % len(urls)], env.auth_token))
                for i in range(calls)
            )
    fixed = accept_ms + first_audio_ms
    p50 = percentile(samples, 0.5) or 0.0
    return {
        "server": server,
        "calls": calls,
        "workers": workers,
        # No slow path greets before the stand-in has even accepted the leg.
        "fast_path_calls": sum(1 for ms in samples if ms < accept_ms),
        "accept_ms": accept_ms,
        "first_audio_delay_ms": first_audio_ms,
        "settings": extra,
        "p50_ms": p50,
        "p95_ms": percentile(samples, 0.95),
        "min_ms": samples[0],
        "max_ms": samples[-1],
        "stand_in_fixed_ms": fixed,
        "ours_p50_ms": p50 - fixed,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=SERVERS, default=PRODUCTION_SERVER)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--slow-start-ms", type=int, default=300)
    parser.add_argument("--first-audio-delay-ms", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="VAR=VALUE")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.set)
    for cache in ("true", "false"):
        row = measure(
            server=args.server,
            calls=args.calls,
            accept_ms=args.slow_start_ms,
            first_audio_ms=args.first_audio_delay_ms,
            extra={**extra, "GREETING_CACHE": cache},
            workers=args.workers,
        )
        print(  # noqa: T201 (a benchmark prints its figures)
            f"Greeting delay, cache {'on' if cache == 'true' else 'off'} "
            f"({row['server']}, {row['workers']} worker(s), {row['calls']} calls "
            f"one after another): start -> first greeting audio at the caller, "
            f"Realtime stand-in accepting after {row['accept_ms']} ms and first "
            f"audio after {row['first_audio_delay_ms']} ms; settings "
            f"{row['settings']}\n"
            f"  p50 {row['p50_ms']:.1f} ms  p95 {row['p95_ms']:.1f} ms  "
            f"(min {row['min_ms']:.1f}, max {row['max_ms']:.1f}); fast path "
            f"{row['fast_path_calls']}/{row['calls']} calls; p50 beyond the "
            f"stand-in's {row['stand_in_fixed_ms']} ms: {row['ours_p50_ms']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
