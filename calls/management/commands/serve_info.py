"""``manage.py serve_info --port 8000``: where to log in and what to paste into Twilio.

Printed by ``make run`` just before the server starts. URLs are built from
``PUBLIC_BASE_URL`` (what Twilio must use) or, without it, from
``http://localhost:PORT`` (which Twilio cannot reach: the output says so). It lists
every page, the address the server binds (``--host``), the engine URL calls will
use (OpenAI's or a local simulator's), and how to log in.
"""

from __future__ import annotations

import ipaddress
from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django.http.request import validate_host
from django.urls import reverse

from calls.conf import app_settings
from calls.runtime.bus import layer_failure

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


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
        parser.add_argument(
            "--host",
            default="",
            help="The address the server binds, as `make run` passes it from HOST "
            "(default: not said). 127.0.0.1 accepts this machine only, which is "
            "all a tunnel such as ngrok needs; 0.0.0.0 accepts other machines.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = settings.PUBLIC_BASE_URL or f"http://localhost:{options['port']}"
        heading = self.style.MIGRATE_HEADING
        self.stdout.write(heading("Voice assistant"))
        if options["host"]:
            self.stdout.write(f"  {self._binding(options['host'], options['port'])}")
        pages = [
            ("Log in", reverse("login")),
            ("Call log", reverse("calls:list")),
            ("Live calls", reverse("calls:live")),
            ("Dashboard", reverse("calls:dashboard")),
            ("Admin", reverse("admin:index")),
            ("Health", reverse("healthz")),
        ]
        for label, path in pages:
            self.stdout.write(f"  {label + ':':<12}{base}{path}")
        self.stdout.write(heading("Engine"))
        self.stdout.write(f"  {self._engine()}")
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
        self.stdout.write(heading("Login"))
        self.stdout.write(f"  {self._login_hint(base)}")

    @staticmethod
    def _binding(host: str, port: int) -> str:
        if host in ("127.0.0.1", "localhost", "::1"):
            return (
                f"Listening on {host}:{port}, this machine only (tunnels such as "
                "ngrok reach it). Set HOST=0.0.0.0 to accept other machines."
            )
        return (
            f"Listening on {host}:{port}: other machines on the network can reach "
            "this server. Unset HOST to listen on 127.0.0.1 only."
        )

    @staticmethod
    def _engine() -> str:
        url = settings.OPENAI_REALTIME_URL
        host = urlsplit(url).hostname or ""
        if host in LOCAL_HOSTS or _is_private(host):
            return (
                f"Realtime simulator (or another local server) at {url} "
                "(OPENAI_REALTIME_URL): nothing reaches OpenAI."
            )
        provider = app_settings().realtime_provider
        name = "Azure OpenAI" if provider == "azure" else "OpenAI"
        return f"{name} Realtime at {url} (OPENAI_REALTIME_URL)."

    @staticmethod
    def _login_hint(base: str) -> str:
        try:
            superusers = get_user_model().objects.filter(is_superuser=True).count()
        except DatabaseError:  # not migrated yet
            superusers = 0
        if superusers:
            return (
                f"Log in at {base}{reverse('login')}. Add staff in the admin "
                "(Users) and put them in the Supervisors or Agents group."
            )
        return (
            "No login yet? Create one with `make superuser` "
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
        layer_problem = _channel_layer_problem()
        if layer_problem:
            warnings.append(
                f"{layer_problem[:1].upper()}{layer_problem[1:]} (REDIS_URL): calls "
                "go on, but staff cannot hang up, transfer, watch or listen to them."
            )
        if not settings.TWILIO_AUTH_TOKEN:
            warnings.append(
                "TWILIO_AUTH_TOKEN is not set: signatures are not checked "
                "(DEBUG only; with DEBUG off the webhooks answer 503)."
            )
        if not settings.OPENAI_API_KEY:
            env_file = Path(settings.BASE_DIR) / ".env"
            hint = (
                ""
                if env_file.exists()
                else (
                    " There is no .env file: copy .env.example to .env and fill it in, "
                    "or set the variables in the environment."
                )
            )
            warnings.append(
                "OPENAI_API_KEY is not set: calls cannot be answered." + hint
            )
        return warnings


def _channel_layer_problem() -> str | None:
    layer = get_channel_layer()
    if layer is None:
        return None
    return async_to_sync(layer_failure.probe)(layer)


def _is_private(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False
