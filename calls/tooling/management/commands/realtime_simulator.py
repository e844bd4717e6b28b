"""``manage.py realtime_simulator``: run the local Realtime API simulator.

Same flags as ``python -m calls.tooling.simulators.realtime_server``.
Point the server at
it with ``OPENAI_REALTIME_URL=ws://127.0.0.1:8765/v1/realtime`` and any
``OPENAI_API_KEY``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calls.tooling.simulators.realtime_server.__main__ import serve
from calls.tooling.simulators.realtime_server.config import add_arguments


class Command(BaseCommand):
    help = "Run a local stand-in for the OpenAI Realtime API (conversation or echo)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(options))
