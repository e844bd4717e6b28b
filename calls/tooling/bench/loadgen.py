"""The load generator: N simulated Twilio echo calls from one process, timed per frame.

Each call does what Twilio does (signed voice webhook, TwiML, signed stream upgrade,
``connected`` + ``start``), then sends one tagged 20 ms speech frame every 20 ms on
a drift-free schedule, plays back what returns in real time, and echoes each
``mark`` once the audio before it has played. The Realtime simulator in echo mode
sends every frame straight back, so each returned frame's tag gives one round trip
(caller frame out -> same frame back), measured inside a common window after all
calls are up (``setup_s`` says how long that took). Calls start spread over
``ramp_s``; their 20 ms ticks are spread evenly so the load is smooth. At the
window's edges it reads the OS counters of the server processes (``procstat``);
the whole result is one JSON document. It also reads them before the first
webhook and after the last teardown (the whole run, after one uncounted warm-up
call per process). With ``seconds`` 0 each call only sets up, waits for one frame
back and hangs up: what set-up and teardown cost.

Run by ``python -m calls.tooling.bench`` in its own process:
``python -m calls.tooling.bench.loadgen '<json options>'`` prints the JSON result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from calls.tooling.bench import procstat
from calls.tooling.bench.calls import EchoCall
from calls.tooling.bench.listeners import Listeners
from calls.tooling.bench.stats import summarize
from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller.webhook import (
    new_sid,
    parse_twiml,
    post_signed,
    sign,
)

SETUP_GRACE_S = 10.0  # after the ramp, for the last calls to come up
SETTLE_POLL_S = 0.1
SETTLE_QUIET_POLLS = 3  # this many polls without a CPU tick: the servers are idle
SETTLE_MAX_S = 3.0
DRAIN_S = 1.0  # a set-up-only call's frames in flight, before it hangs up


@dataclass
class LoadOptions:
    base_urls: list[str]  # one per server process; calls go round robin
    public_url: str
    auth_token: str
    to_number: str
    calls: int
    seconds: float  # the measurement window
    ramp_s: float = 2.0  # calls start spread over this long
    warmup_s: float = 1.0  # after every call is up, before the window
    tail_s: float = 1.0  # after the window: late echoes still count
    server_pids: list[int] = field(default_factory=list)
    other_pids: dict[str, int] = field(default_factory=dict)  # e.g. the simulator
    # Redis URL: a listener on every call (``listeners``); empty: nobody listens.
    listen_redis_url: str = ""
    webhook_path: str = "/twilio/voice/"  # the voice webhook, under public_url
    # One call per server process first, not counted: a process's one-off costs
    # (first imports, first connections) are not any call's set-up.
    warmup_call: bool = True


async def place_call(index: int, options: LoadOptions, call: EchoCall) -> None:
    """Webhook, TwiML, upgrade, ``start``: leaves ``call`` streaming (or failed)."""
    base_url = options.base_urls[index % len(options.base_urls)]
    params = {
        "CallSid": call.call_sid,
        "AccountSid": call.account_sid,
        "From": "+15557654321",
        "To": options.to_number,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    result = await post_signed(
        public=options.public_url + options.webhook_path,
        params=params,
        auth_token=options.auth_token,
        public_url=options.public_url,
        base_url=base_url,
    )
    if result.status != 200:
        raise RuntimeError(f"voice webhook answered HTTP {result.status}")
    twiml = parse_twiml(result.body)
    if not twiml.stream_url:
        raise RuntimeError("TwiML without a <Stream>")
    target = urllib.parse.urlsplit(base_url)
    path = urllib.parse.urlsplit(twiml.stream_url).path
    headers = {"X-Twilio-Signature": sign(options.auth_token, twiml.stream_url, {})}
    await call.connect(target.hostname or "127.0.0.1", target.port or 80, path, headers)
    call.start(twiml.stream_parameters)


async def start_calls(options: LoadOptions) -> list[EchoCall]:
    """Place the calls ``ramp_s`` apart in total; returns once all are up (or not)."""
    loop = asyncio.get_running_loop()
    n = options.calls
    calls = [
        EchoCall(
            index=i,
            call_sid=new_sid("CA"),
            account_sid=new_sid("AC"),
            stream_sid=new_sid("MZ"),
            phase_s=audio.FRAME_MS / 1000 * i / n,
        )
        for i in range(n)
    ]
    t0 = loop.time()

    async def start(i: int) -> None:
        await asyncio.sleep(max(0.0, t0 + options.ramp_s * i / n - loop.time()))
        try:
            await place_call(i, options, calls[i])
            if not options.seconds:  # set-up only: up, one frame back, hang up
                await asyncio.wait_for(
                    asyncio.shield(calls[i].first_back), SETUP_GRACE_S
                )
                calls[i].stop_sending()
                await calls[i].drained(DRAIN_S)
                calls[i].hang_up()
        except Exception as exc:  # a failed call is a result, not a crash
            calls[i].errors.append(f"setup: {type(exc).__name__}: {exc}"[:300])
            calls[i].abort()

    # An overloaded server answers webhooks and upgrades late: past the deadline,
    # the calls not yet up count as failed and the rest are measured.
    tasks = [asyncio.create_task(start(i)) for i in range(n)]
    _, late = await asyncio.wait(tasks, timeout=options.ramp_s + SETUP_GRACE_S)
    for task in late:
        task.cancel()
    for call in calls:
        if not call.up and not call.errors:
            call.errors.append(f"setup: not up within {SETUP_GRACE_S:g} s")
            call.abort()
    return calls


async def measure(options: LoadOptions, calls: list[EchoCall]) -> dict[str, Any]:
    """The window: OS counters at both ends, round trips of frames sent inside."""
    pids = options.server_pids + list(options.other_pids.values())
    window_start = time.perf_counter() + options.warmup_s
    for call in calls:
        call.window_start = window_start
        call.window_end = window_start + options.seconds
    await asyncio.sleep(options.warmup_s)
    before, own_before = procstat.Snapshot.take(pids), time.process_time()
    started = time.perf_counter()
    await asyncio.sleep(options.seconds / 2)
    rss_during = procstat.total_rss(options.server_pids)
    await asyncio.sleep(max(0.0, window_start + options.seconds - time.perf_counter()))
    after, own_cpu = procstat.Snapshot.take(pids), time.process_time() - own_before
    wall = time.perf_counter() - started
    server_cpu = after.cpu_since(before, options.server_pids)
    up = sum(1 for call in calls if call.sending)
    return {
        "calls_up": up,
        "window_s": wall,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_call_s": server_cpu * 1000 / (max(1, up) * wall),
        "server_cores": server_cpu / wall,
        "idle_fraction": after.machine.idle_fraction_since(before.machine),
        "loadgen_cores": own_cpu / wall,
        "other_cores": {
            name: after.cpu_since(before, [pid]) / wall
            for name, pid in options.other_pids.items()
        },
        "rss_during_bytes": rss_during,
    }


async def warm_up(options: LoadOptions) -> list[str]:
    """One call per server process, streamed until a frame comes back; its errors."""
    errors = []
    for index in range(len(options.base_urls)):
        call = EchoCall(
            index=options.calls + index,
            call_sid=new_sid("CA"),
            account_sid=new_sid("AC"),
            stream_sid=new_sid("MZ"),
            phase_s=0.0,
        )
        try:
            await place_call(index, options, call)
            await asyncio.wait_for(asyncio.shield(call.first_back), SETUP_GRACE_S)
        except Exception as exc:
            call.errors.append(f"warm-up: {type(exc).__name__}: {exc}"[:300])
        call.stop_sending()
        call.hang_up()
        await call.closed()
        errors += call.errors
    return errors


async def settle(pids: list[int]) -> None:
    """Wait (bounded) until ``pids`` stop using CPU: a call's teardown included."""
    deadline = time.perf_counter() + SETTLE_MAX_S
    last, quiet = procstat.Snapshot.take(pids), 0
    while quiet < SETTLE_QUIET_POLLS and time.perf_counter() < deadline:
        await asyncio.sleep(SETTLE_POLL_S)
        now = procstat.Snapshot.take(pids)
        quiet = quiet + 1 if now.cpu_since(last, pids) == 0 else 0
        last = now


async def run(options: LoadOptions) -> dict[str, Any]:
    warmup_errors = await warm_up(options) if options.warmup_call else []
    pids = options.server_pids
    await settle(pids)
    rss_before = procstat.total_rss(pids)
    whole_before = procstat.Snapshot.take(pids)
    setup_started = time.perf_counter()
    calls = await start_calls(options)
    setup_s = time.perf_counter() - setup_started
    figures: dict[str, Any] = {"rss_during_bytes": procstat.total_rss(pids)}
    if options.seconds:
        listeners = None
        if options.listen_redis_url:
            sids = [call.call_sid for call in calls if call.sending]
            listeners = Listeners(options.listen_redis_url, sids)
            await listeners.start()
        figures = await measure(options, calls)
        if listeners is not None:
            figures.update(await listeners.stop())
        for call in calls:
            call.stop_sending()
        await asyncio.sleep(options.tail_s)
        for call in calls:
            call.hang_up()
    await asyncio.gather(*(c.closed() for c in calls))
    await settle(pids)
    whole_after = procstat.Snapshot.take(pids)
    rss_growth = figures["rss_during_bytes"] - rss_before
    return {
        "calls": options.calls,
        "seconds": options.seconds,
        "setup_s": setup_s,
        **figures,
        "rss_before_bytes": rss_before,
        "rss_per_call_bytes": rss_growth / options.calls,
        # The whole run, set-up to teardown: ``split`` tells steady state from
        # set-up with these, over runs of different lengths.
        "whole_cpu_s": whole_after.cpu_since(whole_before, pids),
        "whole_s": time.perf_counter() - setup_started,
        "calls_set_up": sum(1 for call in calls if call.up),
        "call_seconds": sum(call.streamed_s for call in calls if call.up),
        "warmup_errors": warmup_errors,
        **summarize(calls),
    }


def main(argv: list[str]) -> int:
    options = LoadOptions(**json.loads(argv[1]))
    with contextlib.suppress(ImportError):
        import uvloop  # optional: a cheaper load generator, when installed

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    result = asyncio.run(run(options))
    result["options"] = asdict(options)
    result["loadgen_loop"] = type(asyncio.get_event_loop_policy()).__module__
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
