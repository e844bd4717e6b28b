"""``python -m calls.tooling.bench`` (``make bench``): the call-path benchmark table.

Runs the project as in production (daphne, DEBUG off, signatures checked) against
the Realtime simulator in echo mode, with N simulated Twilio callers in another
process; then measures one conversation-mode call's first-reply delay. Writes the
results as JSON to ``bench-results/`` (docs/performance.md explains the flags).
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

from calls.tooling.bench import firstreply, report
from calls.tooling.bench.runner import RunSettings, Scenario, run_scenarios
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


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m calls.tooling.bench", description=__doc__
    )
    add = parser.add_argument
    add("--calls", type=_ints, default=[10, 50, 200], help="concurrent calls per run")
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
    add("--quick", action="store_true", help="2 calls, 2 s, 1 run: a smoke test")
    options = parser.parse_args(argv)
    if options.quick:
        options.calls, options.seconds, options.repeats = [2], 2.0, 1
        options.compare_workers, options.first_reply_calls = 0, 1
        options.server = options.server.split(",")[0]
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
    )
    results = [
        report.aggregate(r)
        for r in run_scenarios(env, scenarios_for(options, notes), settings, say)
    ]
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
        "settings": {**vars(options), "out": str(options.out)},
        "scenarios": results,
        "first_reply": first,
        "recordings": recordings,
        "targets": report.targets(results),
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
