"""``manage.py calls``: control calls in progress from a shell, close stale ones.

    python manage.py calls hangup CA123...
    python manage.py calls transfer CA123... +15551234567 --message "One moment"
    python manage.py calls close-stale --dry-run

``hangup`` and ``transfer`` go through ``calls.runtime.bus.control``: the server process
running the call answers over the channel layer. That only reaches another process
through Redis (``REDIS_URL``); with the in-memory layer this command would wait for
an answer that cannot come, so it refuses at once instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from calls.models import Call, EndReason
from calls.runtime.bus import control
from calls.services import transfer_policy
from calls.services.lifecycle import (
    HEARTBEAT_SECONDS,
    LOST_AFTER_BEATS,
    calls_close_stale,
)


def default_requested_by() -> str:
    """Who the transcript and ``Call.ended_by`` name when ``--by`` is not given."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container's bare UID)
        user = "unknown user"
    return f"command line ({user})"


def layer_is_in_process() -> bool:
    """Whether the configured channel layer stays inside one process."""
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if not backend:
        return True  # no layer at all: nothing can reach the server either
    try:
        layer_class = import_string(backend)
    except ImportError:
        return False  # let channels report the bad setting when it is used
    return isinstance(layer_class, type) and issubclass(
        layer_class, InMemoryChannelLayer
    )


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than zero")
    return number


# How long ``hangup`` waits for the call's record to say it ended.
END_WAIT_SECONDS = 15
END_POLL_SECONDS = 0.2


class Command(BaseCommand):
    help = "Hang up or transfer a call in progress, or close calls left open."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{hangup,transfer,close-stale}"
        )
        # Django makes these CommandParsers too, so bad arguments are CommandErrors.
        hangup = commands.add_parser(
            "hangup",
            help="End a call in progress (the caller hears the line drop).",
        )
        hangup.add_argument(
            "call_sid", metavar="CALL_SID", help="The call's CallSid (CA...)."
        )
        hangup.add_argument(
            "--by", help="Who is asking, for the transcript (default: your login)."
        )
        hangup.add_argument(
            "--wait",
            type=positive_int,
            default=END_WAIT_SECONDS,
            metavar="SECONDS",
            help="How long to wait for the call to end before saying it has not "
            f"(default {END_WAIT_SECONDS}).",
        )

        transfer = commands.add_parser(
            "transfer",
            help="Transfer a call in progress to a person's number.",
        )
        transfer.add_argument(
            "call_sid", metavar="CALL_SID", help="The call's CallSid (CA...)."
        )
        transfer.add_argument(
            "to",
            metavar="E164",
            help="The number to put the caller through to, "
            "in E.164 form, e.g. +15551234567.",
        )
        transfer.add_argument(
            "--message",
            default=control.DEFAULT_TRANSFER_MESSAGE,
            help="What the caller hears first "
            f"(default {control.DEFAULT_TRANSFER_MESSAGE!r}; '' for nothing).",
        )
        transfer.add_argument(
            "--by", help="Who is asking, for the transcript (default: your login)."
        )

        stale = commands.add_parser(
            "close-stale",
            help="Finalise calls whose server process died or whose stream "
            "never opened. Run it every few minutes.",
        )
        stale.add_argument(
            "--silent-seconds",
            type=positive_int,
            metavar="N",
            help="A streaming call is lost after N seconds without a heartbeat "
            f"(default {HEARTBEAT_SECONDS * LOST_AFTER_BEATS}).",
        )
        stale.add_argument(
            "--unstreamed-minutes",
            type=positive_int,
            metavar="M",
            help="A call whose stream never opened is closed M minutes after it "
            "was created (default: once its stream token has expired, "
            "STREAM_TOKEN_TTL_SECONDS).",
        )
        stale.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be closed; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        if subcommand == "close-stale":
            self.close_stale(options)
            return
        call_sid = options["call_sid"]
        call = self.check_can_control(call_sid)
        if subcommand == "transfer" and control.is_e164(options["to"]):
            refused = transfer_policy.refusal(options["to"], call.assistant_snapshot)
            if refused:
                raise CommandError(refused)
        requested_by = options["by"] or default_requested_by()
        try:
            if subcommand == "hangup":
                reply = async_to_sync(control.hang_up)(
                    call_sid, requested_by=requested_by
                )
            else:
                reply = async_to_sync(control.transfer)(
                    call_sid,
                    options["to"],
                    requested_by=requested_by,
                    message=options["message"],
                )
        except control.ControlError as exc:
            raise CommandError(str(exc)) from exc
        if not reply.ok:
            raise CommandError(reply.message or "the server refused the request")
        self.stdout.write(reply.message or "done")
        if subcommand == "hangup":
            self.wait_for_end(call_sid, options["wait"])

    def wait_for_end(self, call_sid: str, seconds: float) -> None:
        """Say how the call ended once its record says so; an error if it has not
        within ``seconds`` (the server accepted, but the end never arrived)."""
        deadline = time.monotonic() + seconds
        while True:
            call = Call.objects.filter(call_sid=call_sid).first()
            if call is None or not call.is_live:
                break
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"the server accepted the hang-up, but call {call_sid} is still "
                    f"{call.get_status_display().lower()} after {seconds:g} s; look "
                    "at the server log, or run calls close-stale"
                )
            time.sleep(END_POLL_SECONDS)
        if call is None:
            raise CommandError(f"call {call_sid} is no longer recorded")
        why = call.get_end_reason_display() or "no reason recorded"
        by = f" by {call.ended_by}" if call.ended_by else ""
        self.stdout.write(f"ended: {call.get_status_display()}, {why}{by}")

    def check_can_control(self, call_sid: str) -> Call:
        """Refuse early, with the reason, what the runner could never do."""
        call = Call.objects.filter(call_sid=call_sid).first()
        if call is None:
            raise CommandError(f"no call {call_sid}")
        if not call.is_live:
            why = call.get_end_reason_display() or call.get_status_display()
            raise CommandError(f"call {call_sid} has already ended: {why}")
        if layer_is_in_process():
            raise CommandError(
                "the channel layer is in-memory, so this command cannot reach the "
                "server process that runs the call; set REDIS_URL (for the server "
                "and for this command) to control calls from another process"
            )
        return call

    def close_stale(self, options: dict[str, Any]) -> None:
        # Only what was asked for: otherwise the service's defaults apply.
        limits: dict[str, Any] = {}
        if options["silent_seconds"]:
            limits["silent_for"] = dt.timedelta(seconds=options["silent_seconds"])
        if options["unstreamed_minutes"]:
            limits["unstreamed_for"] = dt.timedelta(
                minutes=options["unstreamed_minutes"]
            )
        dry_run = bool(options["dry_run"])
        closed = calls_close_stale(dry_run=dry_run, **limits)
        verb = "would close" if dry_run else "closed"
        for stale in closed:
            self.stdout.write(f"{verb} {stale.call_sid}: {_reason(stale.end_reason)}")
        noun = "call" if len(closed) == 1 else "calls"
        if dry_run:
            self.stdout.write(f"{len(closed)} {noun} would be closed (dry run)")
        else:
            self.stdout.write(f"{len(closed)} stale {noun} closed")


def _reason(end_reason: str) -> str:
    try:
        return str(EndReason(end_reason).label)
    except ValueError:
        return end_reason
