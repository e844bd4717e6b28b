"""``manage.py tool_echo_server``: a webhook tool endpoint that verifies and echoes.

Point a webhook tool's URL at it (``http://127.0.0.1:8787/``) with the tool's
secret: it checks each request's Standard Webhooks signature (401 if wrong) and
answers with the arguments the model sent. ``--delay`` and ``--status`` show how
an assistant handles a slow or failing tool.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistants import webhook_secrets
from calls.tooling.simulators.tool_echo_server import EchoServer, EchoSettings


class Command(BaseCommand):
    help = "Serve a webhook tool endpoint that verifies signatures and echoes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
        )
        parser.add_argument(
            "--port", type=int, default=8787, help="port (default: %(default)s)"
        )
        parser.add_argument(
            "--secret",
            default="",
            help="the tool's whsec_ signing secret (default: a new one, printed)",
        )
        parser.add_argument(
            "--delay",
            type=float,
            default=0.0,
            help="seconds to wait before answering (default: %(default)s)",
        )
        parser.add_argument(
            "--status",
            type=int,
            default=200,
            help="HTTP status to answer verified requests with (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = options["secret"] or webhook_secrets.generate_secret()
        problem = webhook_secrets.secret_problem(secret)
        if problem:
            raise CommandError(f"--secret {problem}")
        if not 100 <= options["status"] <= 599:
            raise CommandError("--status must be an HTTP status (100-599)")
        server = EchoServer(
            EchoSettings(
                secret=secret, delay=options["delay"], status=options["status"]
            ),
            host=options["host"],
            port=options["port"],
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                self._serve(server, generated=not options["secret"], secret=secret)
            )

    async def _serve(self, server: EchoServer, *, generated: bool, secret: str) -> None:
        await server.start()
        self.stdout.write(f"Tool echo server listening on {server.url}\n")
        if generated:
            # A development aid: the new secret is for pasting into the tool.
            self.stdout.write(f"Signing secret (give the tool this): {secret}\n")
        self.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()
