"""``manage.py bench [connect|greeting] [flags]``: the benchmarks, as a command.

The same programs as ``python -m calls.tooling.bench`` (``make bench``),
``python -m calls.tooling.bench.connect`` (``make bench-connect``) and
``python -m calls.tooling.bench.greeting`` (``make bench-greeting``); every flag
after the benchmark's name is passed to it as is (``--help`` lists them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.tooling.bench import __main__ as calls_bench
from calls.tooling.bench import connect, greeting

BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "calls": calls_bench.main,
    "connect": connect.main,
    "greeting": greeting.main,
}


def run(argv: list[str]) -> int:
    """Run the benchmark ``argv`` names (the calls one by default) on the rest."""
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    return BENCHMARKS["calls"](argv)


class Command(BaseCommand):
    help = (
        "Run a benchmark: calls (the default), connect or greeting; the flags "
        "after it are the benchmark's own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "bench_args",
            nargs=argparse.REMAINDER,
            help="the benchmark's name and flags, e.g. connect --help "
            "(default: the calls benchmark with its defaults)",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # The benchmark parses its own flags, Django's included in none of them.
        sys.exit(run(argv[2:]))

    def handle(self, *args: Any, **options: Any) -> None:
        code = run(list(options["bench_args"] or ()))
        if code:
            raise CommandError(f"the benchmark failed (exit code {code})", code)
