"""``manage.py serve_info --port 8000``: where to log in and what to paste into Twilio.

Printed by ``make run`` just before the server starts. URLs are built from
``PUBLIC_BASE_URL`` (what Twilio must use) or, without it, from
``http://localhost:PORT`` (which Twilio cannot reach: the output says so).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.http.request import validate_host
from django.urls import reverse


class Command(BaseCommand):
    help = (
        "Print the admin and call-log URLs, the Twilio webhook URLs to paste into "
        "the Twilio console, and what is still missing from the configuration."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help="The port the server listens on (default: PORT, %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = settings.PUBLIC_BASE_URL or f"http://localhost:{options['port']}"
        heading = self.style.MIGRATE_HEADING
        self.stdout.write(heading("Voice assistant"))
        self.stdout.write(f"  Admin:      {base}{reverse('admin:index')}")
        self.stdout.write(f"  Call log:   {base}{reverse('calls:list')}")
        self.stdout.write(heading("Twilio console"))
        self.stdout.write(
            "  Phone Numbers > Manage > Active numbers > (your number) > "
            "Voice configuration:"
        )
        self.stdout.write(
            f"  A call comes in:     Webhook  {base}{reverse('calls:voice_webhook')}"
            "  HTTP POST"
        )
        self.stdout.write(
            f"  Call status changes: {base}{reverse('calls:status_callback')}"
            "  HTTP POST"
        )
        for warning in self._warnings(options["port"]):
            self.stdout.write(self.style.WARNING(f"  ! {warning}"))
        self.stdout.write(heading("Admin login"))
        self.stdout.write(
            "  No login yet? Create one with `make superuser` "
            "(python manage.py createsuperuser)."
        )

    def _warnings(self, port: int) -> list[str]:
        warnings = []
        base = settings.PUBLIC_BASE_URL
        if not base:
            warnings.append(
                "PUBLIC_BASE_URL is not set, so Twilio cannot reach these URLs. "
                f"Expose the server (e.g. `ngrok http {port}`) and set "
                "PUBLIC_BASE_URL to the https URL it prints."
            )
        elif not base.startswith("https://"):
            warnings.append(
                f"PUBLIC_BASE_URL ({base}) is not https: Twilio opens media "
                "streams over wss:// only."
            )
        host = urlsplit(base).hostname
        if host and not validate_host(host, settings.ALLOWED_HOSTS):
            warnings.append(
                f"{host} is not in ALLOWED_HOSTS: Django will refuse Twilio's "
                "requests (400). Add it to ALLOWED_HOSTS."
            )
        if not settings.TWILIO_AUTH_TOKEN:
            warnings.append(
                "TWILIO_AUTH_TOKEN is not set: signatures are not checked "
                "(DEBUG only; with DEBUG off the webhooks answer 503)."
            )
        if not settings.OPENAI_API_KEY:
            warnings.append("OPENAI_API_KEY is not set: calls cannot be answered.")
        return warnings
