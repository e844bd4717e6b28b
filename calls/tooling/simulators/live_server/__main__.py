"""``python -m calls.tooling.simulators.live_server``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
from typing import Any

from calls.tooling.simulators.live_server.config import LiveConfig
from calls.tooling.simulators.live_server.server import LiveSimulator
from calls.tooling.simulators.realtime_server.config import (
    add_arguments,
    config_from_options,
)


async def serve(options: dict[str, Any]) -> None:
    base = config_from_options(options)
    config = LiveConfig(
        **dataclasses.asdict(base)
        | {"faults": base.faults, "tool_calls": base.tool_calls}
    )
    config.usage_interval_s = options["usage_interval_s"]
    simulator = LiveSimulator(config)
    await simulator.start()
    print(  # noqa: T201 - a CLI entry point
        f"GPT-Live simulator ({config.mode} mode) listening on "
        f"{simulator.url}  (OPENAI_LIVE_URL={simulator.url})",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m calls.tooling.simulators.live_server",
        description="A local OpenAI GPT-Live simulator.",
    )
    add_arguments(parser)
    parser.set_defaults(port=8766, realtime_factor=1.0)
    parser.add_argument("--usage-interval-s", type=float, default=1.0)
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
