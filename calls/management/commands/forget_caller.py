"""``manage.py forget_caller NUMBER``: delete every recording and transcript of a
caller, blank their number on the calls and record the request
(``calls.privacy.forget``)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.privacy import forget


class Command(BaseCommand):
    help = (
        "Delete every recording (files first) and transcript of one phone number's "
        "calls, blank the number on them and record a ForgetRequest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="The caller's number, e.g. +15551234567.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask for confirmation (default: ask).",
        )

    def handle(
        self, *args: Any, number: str, yes: bool = False, **options: Any
    ) -> None:
        try:
            plan = forget.forget_plan(number)
        except forget.ForgetError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{plan.masked}: {plan.calls} call(s), {plan.recordings} recording(s), "
            f"{plan.transcript_entries} transcript row(s) to delete."
        )
        if not plan.calls:
            self.stdout.write(
                f"No calls of {plan.masked} are recorded: nothing deleted, "
                "no request recorded."
            )
            return
        if not yes:
            try:
                answer = input("Delete them for good? Type 'yes': ")
            except EOFError:
                raise CommandError(
                    "No answer (no terminal to ask on): pass --yes to confirm. "
                    "Nothing deleted."
                ) from None
            if answer.strip() != "yes":
                raise CommandError("Nothing deleted.")
        request = forget.caller_forget(
            number=plan.number, requested_by=f"manage.py forget_caller ({_who()})"
        )
        self.stdout.write(
            f"Forgot {request.number_masked}: {request.calls} call(s), "
            f"{request.recordings} recording(s), {request.transcript_entries} "
            "transcript row(s)."
        )


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container
        return "unknown"
