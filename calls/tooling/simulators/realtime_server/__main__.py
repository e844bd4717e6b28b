"""``python -m calls.tooling.simulators.realtime_server``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

from calls.tooling.simulators.realtime_server.config import (
    add_arguments,
    config_from_options,
)
from calls.tooling.simulators.realtime_server.server import RealtimeSimulator


async def serve(options: dict[str, Any]) -> None:
    simulator = RealtimeSimulator(config_from_options(options))
    await simulator.start()
    print(  # noqa: T201 - a CLI entry point
        f"Realtime simulator ({simulator.config.mode} mode) listening on "
        f"{simulator.url}  (OPENAI_REALTIME_URL={simulator.url})",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m calls.tooling.simulators.realtime_server",
        description="A local OpenAI Realtime API (GA) simulator.",
    )
    add_arguments(parser)
    parser.add_argument("--log-level", default="INFO")
    options = vars(parser.parse_args(argv))
    logging.basicConfig(
        level=options["log_level"].upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
