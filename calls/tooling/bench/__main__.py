"""``python -m calls.tooling.bench`` (``make bench``): the call-path benchmark table.

Runs the project as in production (daphne, DEBUG off, signatures checked) against
the Realtime simulator in echo mode, with N simulated Twilio callers in another
process, beside the floor relay on the same server and, with ``--baseline``,
another bridge, interleaved; at ``--split-calls`` also with calls of every
``--lengths``, which tell steady state from set-up. Then it measures one
conversation-mode call's first-reply delay. Writes the results as JSON to
``bench-results/`` (docs/performance.md explains the flags).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from calls.ops.servers import PRODUCTION_SERVER
from calls.tooling.bench import firstreply, report, versus
from calls.tooling.bench.runner import (
    QUIET_WAIT_S,
    RunSettings,
    Scenario,
    run_scenarios,
)
from calls.tooling.bench.server import (
    ECHO_STAND_INS,
    BenchEnvironment,
    default_database_url,
    prepare_database,
    recordings_written,
)
from calls.tooling.servers.commands import SERVERS
from voiceassistant.services_probe import redis_available

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
DEFAULT_SPLIT_CALLS = 50


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m calls.tooling.bench", description=__doc__
    )
    add = parser.add_argument
    add("--calls", type=_ints, default=[50, 200], help="concurrent calls per run")
    add("--seconds", type=float, default=8.0, help="measured seconds per run")
    add("--repeats", type=int, default=3, help="runs per scenario (medians)")
    add(
        "--server",
        default=default_servers(),
        help=f"comma-separated, of {', '.join(SERVERS)} "
        "(default: daphne,uvicorn if uvicorn is installed)",
    )
    add(
        "--compare-workers",
        type=int,
        default=2,
        help="also run the first server with this many processes (0: no)",
    )
    add("--compare-calls", type=_ints, default=[200], help="...at these N")
    add("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    add("--database-url", default="", help="default: a fresh var/bench.sqlite3")
    add("--first-reply-calls", type=int, default=3, help="conversation calls (0: no)")
    add(
        "--echo",
        choices=ECHO_STAND_INS,
        default="lean",
        help="the echo stand-in: lean (tooling.bench.echo) or the Realtime simulator",
    )
    add(
        "--set",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="an extra environment variable for the servers (repeatable)",
    )
    add("--out", type=Path, default=Path("bench-results"), help="JSON directory")
    add(
        "--listen",
        choices=("on", "off"),
        default="",
        help="on: a listen-in listener on every call; off: the same on Redis with "
        "nobody listening (the baseline); default: neither",
    )
    add(
        "--recording",
        choices=("on", "off", "both"),
        default="",
        help="on: the echo calls are recorded (the assistant keeps recordings); "
        "off: not; both: each scenario twice, rows 'rec off' and 'rec on' "
        "(use with --interleave); default: not, and no such rows",
    )
    add(
        "--interleave",
        action="store_true",
        help="run the repeats round-robin (A B A B): fairer on a busy machine",
    )
    add(
        "--baseline",
        default="",
        metavar="COMMAND",
        help="another bridge's start command (run by /bin/sh; PORT, "
        "OPENAI_REALTIME_URL and OPENAI_URL in its environment, {port} replaced), "
        "measured interleaved with ours",
    )
    add(
        "--baseline-webhook",
        default="/incoming-call",
        metavar="PATH",
        help="the baseline's voice webhook path",
    )
    add(
        "--floor",
        default="",
        help="the server that serves the floor relay (default: the production "
        "server if in --server, else the first; off: none)",
    )
    add(
        "--lengths",
        type=_floats,
        default=[0.0, 1.0, 3.0],
        help="call lengths in units of --seconds at --split-calls "
        "(0: set-up only); 1 is the main run",
    )
    add(
        "--split-calls",
        type=_ints,
        default=None,
        help="the N with runs of every --lengths (default: 50 if measured)",
    )
    add(
        "--quiet-wait",
        type=float,
        default=QUIET_WAIT_S,
        help="at most this long before each run, wait for the machine to be idle",
    )
    add("--quick", action="store_true", help="2 calls, 2 s, 1 run: a smoke test")
    options = parser.parse_args(argv)
    if options.quick:
        options.calls, options.seconds, options.repeats = [2], 2.0, 1
        options.compare_workers, options.first_reply_calls = 0, 1
        options.server = options.server.split(",")[0]
        options.floor = options.floor or "off"
        if options.split_calls is None:
            options.split_calls = []
    if options.split_calls is None:
        options.split_calls = [n for n in options.calls if n == DEFAULT_SPLIT_CALLS]
    if 1.0 not in options.lengths:
        parser.error("--lengths must include 1 (the main run)")
    if options.baseline:
        options.interleave = True  # ours, baseline, ours, baseline...
    for server in options.server.split(","):
        if server not in SERVERS:
            parser.error(f"--server: {server!r} is not one of {SERVERS}")
    return options


def default_servers() -> str:
    return "daphne,uvicorn" if importlib.util.find_spec("uvicorn") else "daphne"


def scenarios_for(options: argparse.Namespace, notes: list[str]) -> list[Scenario]:
    servers = options.server.split(",")
    out = [Scenario(s, 1, n) for s in servers for n in options.calls]
    if options.compare_workers > 1:
        if redis_available(options.redis_url):
            workers = options.compare_workers
            out += [Scenario(servers[0], workers, n) for n in options.compare_calls]
        else:
            notes.append(f"no Redis at {options.redis_url}: several processes skipped")
    if not importlib.util.find_spec("uvicorn"):
        notes.append("uvicorn is not installed: only daphne was measured")
    modes = {"both": ["off", "on"], "on": ["on"], "off": ["off"]}
    return [
        dataclasses.replace(s, recording=mode)
        for s in out
        for mode in modes.get(options.recording, [""])
    ]


def plan(options: argparse.Namespace, notes: list[str]) -> list[Scenario]:
    """Every scenario in run order: at each N, ours, then the baseline and the
    floor; then the same at the other lengths, at ``--split-calls``."""
    ours = scenarios_for(options, notes)
    servers = options.server.split(",")
    production = PRODUCTION_SERVER if PRODUCTION_SERVER in servers else servers[0]
    floor = options.floor or production
    references = []
    if options.baseline:
        references.append(Scenario("", 1, 0, subject="baseline"))
    if floor != "off":
        references.append(Scenario(floor, 1, 0, subject="floor"))
    out: list[Scenario] = []
    for length in [1.0, *(x for x in options.lengths if x != 1.0)]:
        counts = sorted({s.calls for s in ours})
        if length != 1.0:
            counts = [n for n in counts if n in options.split_calls]
        for n in counts:
            out += [dataclasses.replace(s, length=length) for s in ours if s.calls == n]
            out += [dataclasses.replace(r, calls=n, length=length) for r in references]
    return out


def group_lengths(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per scenario at length 1, the other lengths' runs under ``lengths``."""
    main: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for result in results:
        (main if result["length"] == 1.0 else others).append(result)

    def key(result: dict[str, Any]) -> tuple[Any, ...]:
        fields = ("subject", "server", "workers", "calls", "recording")
        return tuple(result[f] for f in fields)

    by_key = {key(r): {**r, "lengths": {}} for r in main}
    for result in others:
        entry = by_key.get(key(result))
        if entry is not None:
            entry["lengths"][f"{result['length']:g}"] = result["runs"]
    return list(by_key.values())


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    notes: list[str] = []
    env = BenchEnvironment(
        database_url=options.database_url or default_database_url(),
        log_dir=options.out / "logs",
    )
    env.extra = dict(item.split("=", 1) for item in options.set)

    def say(text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)  # noqa: T201

    load_start = list(os.getloadavg())
    say(f"load average {' / '.join(f'{v:.2f}' for v in load_start)}")
    say(f"preparing the database {env.database_url}")
    prepare_database(env, record_conversation=options.recording == "on")
    settings = RunSettings(
        seconds=options.seconds,
        repeats=options.repeats,
        redis_url=options.redis_url,
        echo=options.echo,
        server_env=env.extra,
        listen=options.listen,
        interleave=options.interleave,
        baseline_command=options.baseline,
        baseline_webhook=options.baseline_webhook,
        quiet_wait_s=options.quiet_wait,
    )
    runs = run_scenarios(env, plan(options, notes), settings, say)
    results = [report.aggregate(r, options.seconds) for r in group_lengths(runs)]
    # Before the first-reply calls, so the figures are the echo runs' only.
    recordings = (
        recordings_written(env) if options.recording in ("on", "both") else None
    )
    first: dict[str, Any] | None = None
    if options.first_reply_calls:
        say("conversation-mode first-reply delay")
        env.redis_url = ""
        first = firstreply.measure(
            env, calls=options.first_reply_calls, server=options.server.split(",")[0]
        )
    document = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "load_average_start": load_start,
        "settings": {**vars(options), "out": str(options.out)},
        "scenarios": results,
        "first_reply": first,
        "recordings": recordings,
        "targets": report.targets(results),
        "ratio_targets": versus.ratio_targets(results, report.label),
        "warnings": report.warnings(results) + notes,
    }
    print(report.render(document))  # noqa: T201
    path = write_json(document, options.out)
    print(f"\nJSON: {path}")  # noqa: T201
    return 0


def write_json(document: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = document["when"].replace(":", "").replace("+0000", "Z")
    path = directory / f"bench-{stamp}.json"
    text = json.dumps(document, indent=1, default=str)
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
