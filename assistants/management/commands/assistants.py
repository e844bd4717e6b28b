"""``manage.py assistants import FILE|-`` and ``manage.py assistants export``.

Assistants as code: keep personas and their numbers in a JSON file under version
control, and apply it to any installation. The logic lives in
``assistants.services``; this command only reads, writes and reports.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assistants.checks import recording_notice_problem
from assistants.config import ConfigError
from assistants.engine_rules import persona_warnings
from assistants.models import Assistant, WebhookTool
from assistants.services import assistants_export, assistants_import

# The largest file an import reads: far above any real set of assistants.
MAX_FILE_BYTES = 5_000_000

FORMAT_HELP = (
    'The format is {"assistants": [{"name": "...", "instructions": "...", '
    '"voice": "marin", "phone_numbers": ["+15550000001"], ...}]}; every setting '
    "except name is optional. Tools, recording and redaction are nested: "
    '"tools": {"end_call", "transfer", "handoff", "keypad", "silence", '
    '"webhooks"}, "recording": {"enabled", "retention_days"}, '
    '"transcript_retention_days", "redact". Webhook secrets are exported as '
    '"whsec_stored", which import reads as "keep the stored secret". '
    "`assistants export` shows a complete example."
)


class Command(BaseCommand):
    help = "Import or export assistants and their phone numbers as JSON. " + FORMAT_HELP

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser(
            "import",
            help="Create or update assistants (matched by name) from a JSON file. "
            "Nothing is written if anything in the file is wrong.",
            description=FORMAT_HELP,
        )
        load.add_argument("file", metavar="FILE", help='A JSON file, or "-" for stdin.')
        load.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and print what would change (assistants created, "
            "settings updated, numbers added, moved or removed); write nothing. "
            "Default: off (the changes are written).",
        )
        load.add_argument(
            "--allow-removals",
            action="store_true",
            help="Allow an entry to take every number away from its assistant "
            '(e.g. "phone_numbers": []), which leaves it answering no calls. '
            "Default: off (such a file is refused). Past calls keep the number "
            "they were made to.",
        )
        actions.add_parser(
            "export", help="Print every assistant and its numbers as JSON."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self.stdout.write(
                json.dumps(assistants_export(), indent=2, ensure_ascii=False)
            )
            return
        data = self._read(options["file"])
        try:
            summary = assistants_import(
                data,
                dry_run=options["dry_run"],
                allow_removals=options["allow_removals"],
            )
        except ConfigError as exc:
            count = len(exc.errors)
            raise CommandError(
                f"{options['file']} was refused; nothing was changed. "
                f"{count} problem{'' if count == 1 else 's'}:\n"
                + "\n".join(f"  - {error}" for error in exc.errors)
            ) from exc
        lines = summary.lines() or ["The file is empty: nothing to do."]
        if options["dry_run"]:
            lines = ["Dry run: nothing was written.", *lines]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
        if summary.new_secrets and not options["dry_run"]:
            self._print_new_secrets(summary.new_secrets)
        self._warn_about_model_names(data)

    def _print_new_secrets(self, tools: list[tuple[str, str]]) -> None:
        """The secrets generated for new tools, once, on this terminal only
        (never logged): the document never holds them."""
        self.stdout.write(
            "New signing secrets (shown once; copy each to its receiver):"
        )
        for assistant, name in tools:
            secret = WebhookTool.objects.get(
                assistant__name=assistant, name=name
            ).secret
            self.stdout.write(f"  {assistant}: {name}: {secret}")

    def _warn_about_model_names(self, data: Any) -> None:
        """Unknown model names are allowed (models come and go) but said."""
        names = [e.get("name") for e in data["assistants"] if isinstance(e, dict)]
        for assistant in Assistant.objects.filter(name__in=names).order_by("name"):
            for warning in persona_warnings(assistant.persona()):
                self.stderr.write(
                    self.style.WARNING(f"Warning: {assistant}: {warning}")
                )
            notice = recording_notice_problem(
                assistant.recording_enabled, assistant.pre_connect_message
            )
            if notice:
                self.stderr.write(self.style.WARNING(f"Warning: {assistant} {notice}"))

    def _read(self, name: str) -> Any:
        try:
            if name == "-":
                text = sys.stdin.read(MAX_FILE_BYTES + 1)
                size = len(text)
            else:
                with Path(name).open("rb") as file:
                    raw = file.read(MAX_FILE_BYTES + 1)
                size = len(raw)
                text = "" if size > MAX_FILE_BYTES else raw.decode("utf-8")
            if size > MAX_FILE_BYTES:
                raise CommandError(
                    f"{name} is larger than {MAX_FILE_BYTES // 1_000_000} MB, the most "
                    "an import reads; split it. Nothing was changed."
                )
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from exc
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise CommandError(
                f"{name} is nested too deeply to read; nothing was changed."
            ) from exc
        except json.JSONDecodeError as exc:
            where = "stdin" if name == "-" else name
            raise CommandError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); nothing was changed."
            ) from exc
