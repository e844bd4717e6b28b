"""``python -m calls.tooling.servers.uvloop_daphne <daphne args>``: daphne on uvloop.

Importing ``daphne.server`` installs Twisted's asyncio reactor on
``asyncio.new_event_loop()``; with uvloop's event loop policy set first, that loop
is a uvloop one. A benchmark option (``make bench BENCH_ARGS="--server
daphne-uvloop"``); without uvloop installed it is plain daphne.
"""

from __future__ import annotations

import asyncio
import contextlib


def main() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from daphne.cli import CommandLineInterface  # only now: it creates the loop

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
