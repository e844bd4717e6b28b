"""``manage.py demo_call`` (``make demo``): one simulated call end to end, offline.

Starts the Realtime simulator in this process, makes sure a demo assistant answers
+15550000100, runs daphne as a subprocess pointed at the simulator, places a call
with a barge-in, prints what happened and where to look at it, then stops
everything. Nothing contacts OpenAI or Twilio.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistants.config import ConfigError
from assistants.services import assistants_import
from calls.management.commands.simulate_call import (
    place_call,
    print_call,
    print_report,
    wait_for_call,
)
from calls.tooling.simulators.local_server import DaphneProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import CallerOptions, default_script

DEMO_NUMBER = "+15550000100"
DEMO_NAME = "Demo assistant"
DEMO_GREETING = "Thanks for calling the demo line! How can I help you today?"
DEMO_INSTRUCTIONS = "You book appointments for a small clinic. Be brief."


def ensure_demo_assistant() -> None:
    """Create (or refresh) the demo assistant and its number, through the services."""
    try:
        assistants_import(
            {
                "assistants": [
                    {
                        "name": DEMO_NAME,
                        "instructions": DEMO_INSTRUCTIONS,
                        "greeting": DEMO_GREETING,
                        "is_active": True,
                        "phone_numbers": [DEMO_NUMBER],
                    }
                ]
            }
        )
    except ConfigError as exc:
        raise CommandError(f"cannot set up the demo assistant:\n{exc}") from exc


class Command(BaseCommand):
    help = "Run one simulated call through the whole stack, offline, and show it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--turns", type=int, default=2)
        parser.add_argument("--no-barge-in", action="store_true")
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000",
            help="where `make run` serves the staff pages, for the printed links",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_demo_assistant()
        token = secrets.token_hex(16)
        with SimulatorThread() as simulator:
            daphne = DaphneProcess({})
            daphne.env.update(
                DEBUG="true",
                OPENAI_REALTIME_URL=simulator.url,
                OPENAI_API_KEY="sim-key",
                REALTIME_PROVIDER="openai",
                TWILIO_AUTH_TOKEN=token,
                PUBLIC_BASE_URL=daphne.base_url,
            )
            self.stdout.write(f"Realtime simulator at {simulator.url}\n")
            with daphne:
                self.stdout.write(f"Server (daphne) at {daphne.base_url}\n\n")
                report = place_call(
                    CallerOptions(
                        base_url=daphne.base_url,
                        auth_token=token,
                        to_number=DEMO_NUMBER,
                        script=default_script(
                            turns=options["turns"],
                            barge_in=not options["no_barge_in"],
                        ),
                    )
                )
                print_report(report, self.stdout)
                call = wait_for_call(report.call_sid)
            print_call(call, self.stdout)
        if call is not None:
            site = options["site_url"].rstrip("/")
            self.stdout.write(
                f"\nAfter `make run` (and `make superuser`), open:\n"
                f"  staff page: {site}{call.get_absolute_url()}\n"
                f"  admin:      {site}/admin/calls/call/{call.pk}/change/\n"
            )
        if report.errors:
            self.stderr.write("The demo call reported errors (see above).\n")
