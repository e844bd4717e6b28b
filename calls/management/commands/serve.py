"""``manage.py serve [--port P] [--workers N]``: the production server.

The one production entry point (the Dockerfile, docker compose and ``make serve``
run it). It runs ``calls.ops.servers.PRODUCTION_SERVER`` (uvicorn, chosen by
measurement), or another of ``SERVE_SERVERS``: the uvicorn variants, the servers
that pass the end-to-end tests. daphne is ``make run``'s; the other measured
candidates are benchmark options (the dev-tools app). One worker replaces this
process with the server (``exec``), so a process manager's SIGTERM reaches the
server directly and each call ends cleanly; several workers run on consecutive
ports under ``serve_workers``' supervision and need ``REDIS_URL``.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.conf import settings

from calls.management.commands.serve_workers import Command as ServeWorkers
from calls.ops.servers import PRODUCTION_SERVER, SERVE_SERVERS, server_command


class Command(ServeWorkers):
    help = (
        "Run the production server (uvicorn) on --port; --workers N runs N "
        "processes on consecutive ports (needs REDIS_URL)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WORKERS") or 1),
            help="server processes, one per core (default: $WORKERS or 1)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help=f"the (first) port (default: $PORT or {settings.PORT})",
        )
        parser.add_argument(
            "--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)"
        )
        parser.add_argument(
            "--server",
            choices=SERVE_SERVERS,
            default=PRODUCTION_SERVER,
            help=f"the server (default {PRODUCTION_SERVER}, the measured fastest)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers, server = options["workers"], options["server"]
        self.check_options(workers, server)
        if workers > 1:
            super().handle(*args, **options)
            return
        command = server_command(server, options["host"], options["port"])
        self.stdout.write(f"{server} on http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        os.execv(command[0], command)
