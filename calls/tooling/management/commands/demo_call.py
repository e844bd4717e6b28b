"""``manage.py demo_call`` (``make demo``): one simulated call end to end, offline.

Starts the Realtime simulator (or, with ``--engine openai-live``, the GPT-Live
simulator) in this process, makes sure a demo assistant on that engine answers
+15550000100, runs daphne as a subprocess pointed at the simulator, places a call
with a barge-in, prints what happened and where to look at it, then stops
everything. Nothing contacts OpenAI or Twilio.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistants.config import ConfigError
from assistants.services import assistants_import
from calls.tooling.management.commands.simulate_call import (
    place_call,
    print_call,
    print_report,
    wait_for_call,
)
from calls.tooling.simulators.live_server import LiveSimulatorThread
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.tooling.simulators.twilio_caller import CallerOptions, default_script

# One demo assistant per engine, so that a GPT-Live demo leaves the Realtime
# one (the one `simulate_call` calls by default) as it was.
DEMO_NUMBER = "+15550000100"
DEMO_NAME = "Demo assistant"
DEMO_ASSISTANTS = {
    "openai-realtime": (DEMO_NAME, DEMO_NUMBER),
    "openai-live": ("Demo assistant (GPT-Live)", "+15550000101"),
}
DEMO_GREETING = "Thanks for calling the demo line! How can I help you today?"
DEMO_INSTRUCTIONS = "You book appointments for a small clinic. Be brief."
ENGINES = ("openai-realtime", "openai-live")
# The voice model each engine runs the demo with.
DEMO_MODELS = {"openai-realtime": "gpt-realtime-2.1", "openai-live": "gpt-live-1.1"}


def ensure_demo_assistant(engine: str = "openai-realtime") -> str:
    """Create (or refresh) the demo assistant and its number, through the services.

    Returns what was done, in a sentence for the person running the demo.
    """
    name, number = DEMO_ASSISTANTS[engine]
    try:
        summary = assistants_import(
            {
                "assistants": [
                    {
                        "name": name,
                        "instructions": DEMO_INSTRUCTIONS,
                        "greeting": DEMO_GREETING,
                        "engine": engine,
                        "model": DEMO_MODELS[engine],
                        "is_active": True,
                        "phone_numbers": [number],
                    }
                ]
            }
        )
    except ConfigError as exc:
        raise CommandError(f"cannot set up the demo assistant:\n{exc}") from exc
    if summary.created:
        done = "Created"
    elif summary.updated or summary.numbers_added or summary.numbers_changed:
        done = "Updated"
    else:
        done = "Using"
    return (
        f'{done} the assistant "{name}" answering {number} (in this '
        "database, so `make run` shows its calls; delete it in the admin when done)."
    )


class Command(BaseCommand):
    help = "Run one simulated call through the whole stack, offline, and show it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--turns",
            type=int,
            default=3,
            help="How many times the simulated caller speaks, the interruption "
            "included (default: %(default)s: two questions, then it talks over the "
            "second answer).",
        )
        parser.add_argument(
            "--no-barge-in",
            action="store_true",
            help="Let the assistant finish every answer (default: the caller "
            "interrupts one).",
        )
        parser.add_argument(
            "--engine",
            choices=ENGINES,
            default="openai-realtime",
            help="the engine the demo assistant runs on (make demo ENGINE=...; "
            "default: %(default)s)",
        )
        parser.add_argument(
            "--site-url",
            default=f"http://localhost:{settings.PORT}",
            help="Where `make run` serves the staff pages, for the printed links "
            "(default: %(default)s, from PORT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engine = options["engine"]
        barge_in = not options["no_barge_in"]
        # The interruption is one of the caller's turns: it talks over the reply
        # to the one before it.
        turns = options["turns"] - 1 if barge_in else options["turns"]
        if turns < 1:
            raise CommandError(
                "--turns must be at least 2 with the interruption (or pass "
                "--no-barge-in)"
            )
        self.stdout.write(ensure_demo_assistant(engine) + "\n")
        token = secrets.token_hex(16)
        live = engine == "openai-live"
        thread = LiveSimulatorThread() if live else SimulatorThread()
        with thread as simulator:
            daphne = ServerProcess({})
            url_setting = "OPENAI_LIVE_URL" if live else "OPENAI_REALTIME_URL"
            daphne.env.update(
                DEBUG="true",
                OPENAI_API_KEY="sim-key",
                REALTIME_PROVIDER="",
                TWILIO_AUTH_TOKEN=token,
                PUBLIC_BASE_URL=daphne.base_url,
                **{url_setting: simulator.url},
            )
            label = "GPT-Live" if live else "Realtime"
            self.stdout.write(f"{label} simulator at {simulator.url}\n")
            with daphne:
                self.stdout.write(f"Server (daphne) at {daphne.base_url}\n\n")
                report = place_call(
                    CallerOptions(
                        base_url=daphne.base_url,
                        auth_token=token,
                        to_number=DEMO_ASSISTANTS[engine][1],
                        script=default_script(turns=turns, barge_in=barge_in),
                    )
                )
                print_report(report, self.stdout)
                call = wait_for_call(report.call_sid)
            print_call(call, self.stdout)
        if call is not None:
            site = options["site_url"].rstrip("/")
            self.stdout.write(
                f"\nAfter `make run` (and `make superuser`), log in at "
                f"{site}/accounts/login/ and open:\n"
                f"  staff page: {site}{call.get_absolute_url()}\n"
                f"  admin:      {site}/admin/calls/call/{call.pk}/change/\n"
            )
        if report.errors:
            self.stderr.write("The demo call reported errors (see above).\n")
