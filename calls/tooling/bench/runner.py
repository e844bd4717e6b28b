"""Runs the benchmark's scenarios: for each (subject, server, workers, calls, length),
repeated runs.

A scenario's subject is the project ("ours"), another bridge started from a
command (``baseline``) or the floor relay on one of the project's servers
(``floor``); its length is the calls' streaming time as a multiple of
``--seconds`` (0: calls that only set up and tear down). Every run gets fresh
server processes (so RSS growth is measured from a cold
start each time) and its own load generator process; the echo simulator runs in
one process for the whole benchmark. Before each run it waits briefly for the
machine to be quiet and records how idle it was, since other work on a 2-core
machine distorts every figure.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from calls.ops.servers import APPLICATION
from calls.tooling.bench import procstat
from calls.tooling.bench.baseline import BaselineServer
from calls.tooling.bench.loadgen import SETUP_GRACE_S, LoadOptions
from calls.tooling.bench.server import (
    ECHO_NUMBER,
    FLOOR_APPLICATION,
    PUBLIC_URL,
    RECORDED_ECHO_NUMBER,
    BenchEnvironment,
    ServerGroup,
    StandIn,
)
from calls.tooling.simulators.local_server import PROJECT_DIR

logger = logging.getLogger(__name__)

QUIET_IDLE = 0.85  # fraction of the machine idle that counts as quiet
QUIET_WAIT_S = 15.0


SUBJECTS = ("ours", "baseline", "floor")


@dataclass(frozen=True)
class Scenario:
    server: str
    workers: int
    calls: int
    # "on": the calls go to the recorded echo assistant; "off" or "": not.
    recording: str = ""
    subject: str = "ours"  # one of SUBJECTS
    length: float = 1.0  # the calls' measured seconds, in units of --seconds

    @property
    def label(self) -> str:
        if self.subject == "baseline":
            return "baseline"
        if self.subject == "floor":
            return f"floor {self.server}"
        base = f"{self.server} x{self.workers}"
        return f"{base} rec {self.recording}" if self.recording else base


@dataclass
class RunSettings:
    seconds: float
    repeats: int
    ramp_rate: float = 50.0  # calls set up per second
    warmup_s: float = 1.0
    redis_url: str = ""
    echo: str = "lean"  # or "simulator": see server.StandIn
    server_env: dict[str, str] = field(default_factory=dict)
    # "on": a listener on every call (over Redis); "off": Redis, nobody listens;
    # "": as usual (Redis only for several processes).
    listen: str = ""
    # Run the scenarios' repeats round-robin (A B A B) rather than A A B B, so
    # that a change in the machine's other load hits every scenario alike.
    interleave: bool = False
    baseline_command: str = ""  # the shell command of the "baseline" subject
    baseline_webhook: str = "/incoming-call"
    quiet_wait_s: float = QUIET_WAIT_S  # at most, before each run


def machine_idle(seconds: float = 0.5) -> float:
    before = procstat.MachineTimes.read()
    time.sleep(seconds)
    return procstat.MachineTimes.read().idle_fraction_since(before)


def wait_for_quiet(wait_s: float = QUIET_WAIT_S) -> float:
    """Wait (bounded) for the machine to be mostly idle; the idle fraction seen."""
    deadline = time.monotonic() + wait_s
    idle = machine_idle()
    while idle < QUIET_IDLE and time.monotonic() < deadline:
        idle = machine_idle()
    return idle


def subject_processes(
    env: BenchEnvironment, scenario: Scenario, settings: RunSettings
) -> ServerGroup | BaselineServer:
    """What a run measures: our servers, the baseline's command, or the floor."""
    if scenario.subject == "baseline":
        return BaselineServer(
            settings.baseline_command,
            realtime_url=env.realtime_url,
            auth_token=env.auth_token,
            log_dir=env.log_dir,
        )
    application = FLOOR_APPLICATION if scenario.subject == "floor" else APPLICATION
    return ServerGroup(
        env, kind=scenario.server, workers=scenario.workers, application=application
    )


def run_once(
    env: BenchEnvironment, scenario: Scenario, settings: RunSettings, echo_pid: int
) -> dict[str, Any]:
    idle_before = wait_for_quiet(settings.quiet_wait_s)
    load_before = os.getloadavg()[0]
    ours = scenario.subject == "ours"
    with subject_processes(env, scenario, settings) as group:
        options = LoadOptions(
            base_urls=group.urls,
            public_url=PUBLIC_URL,
            auth_token=env.auth_token,
            to_number=RECORDED_ECHO_NUMBER
            if scenario.recording == "on"
            else ECHO_NUMBER,
            calls=scenario.calls,
            seconds=settings.seconds * scenario.length,
            ramp_s=max(0.5, scenario.calls / settings.ramp_rate),
            warmup_s=settings.warmup_s,
            server_pids=group.pids,
            other_pids={"echo": echo_pid},
            listen_redis_url=settings.redis_url
            if settings.listen == "on" and ours
            else "",
            webhook_path="/twilio/voice/"
            if scenario.subject != "baseline"
            else settings.baseline_webhook,
        )
        result = run_loadgen(options)
    result["idle_before"] = idle_before
    result["load_average_before"] = load_before
    return result


def run_loadgen(options: LoadOptions) -> dict[str, Any]:
    """The load generator's JSON result; a failed run becomes a run of failures."""
    budget = options.ramp_s + SETUP_GRACE_S + options.warmup_s + options.seconds + 60
    command = [
        sys.executable,
        "-m",
        "calls.tooling.bench.loadgen",
        json.dumps(asdict(options)),
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return failed_run(options, f"the load generator ran over {budget:g} s")
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        detail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return failed_run(options, f"the load generator failed: {detail[0]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def failed_run(options: LoadOptions, error: str) -> dict[str, Any]:
    logger.error("%s", error)
    return {
        "calls": options.calls,
        "calls_failed": options.calls,
        "errors": [error],
        "error_count": 1,
        "other_cores": {},
    }


def run_order(
    scenarios: list[Scenario], repeats: int, interleave: bool
) -> list[Scenario]:
    """Each scenario ``repeats`` times: A A B B, or A B A B when interleaved."""
    if interleave:
        return [s for _ in range(repeats) for s in scenarios]
    return [s for s in scenarios for _ in range(repeats)]


def run_scenarios(
    env: BenchEnvironment,
    scenarios: list[Scenario],
    settings: RunSettings,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    echo = StandIn(mode="echo", echo=settings.echo, log_dir=env.log_dir, options=[])
    with echo:
        env.realtime_url = echo.url
        runs: dict[Scenario, list[dict[str, Any]]] = {s: [] for s in scenarios}
        order = run_order(scenarios, settings.repeats, settings.interleave)
        for number, scenario in enumerate(order, 1):
            several = scenario.workers > 1 or (
                bool(settings.listen) and scenario.subject == "ours"
            )
            env.redis_url = settings.redis_url if several else ""
            env.extra = settings.server_env
            seconds = settings.seconds * scenario.length
            progress(
                f"[{number}/{len(order)}] "
                f"{scenario.label}, {scenario.calls} calls of {seconds:g} s, "
                f"run {len(runs[scenario]) + 1}/{settings.repeats}, "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            runs[scenario].append(run_once(env, scenario, settings, echo.pid))
    return [{**asdict(s), "runs": runs[s]} for s in scenarios]
