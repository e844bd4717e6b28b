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

from assistants.config import ConfigError
from assistants.services import assistants_export, assistants_import

FORMAT_HELP = (
    'The format is {"assistants": [{"name": "...", "instructions": "...", '
    '"voice": "marin", "phone_numbers": ["+15550000001"], ...}]}; every setting '
    "except name is optional. `assistants export` shows a complete example."
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
            summary = assistants_import(data)
        except ConfigError as exc:
            raise CommandError(
                f"{options['file']} was refused; nothing was changed.\n"
                + "\n".join(f"  - {error}" for error in exc.errors)
            ) from exc
        lines = summary.lines() or ["The file is empty: nothing to do."]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _read(self, name: str) -> Any:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = "stdin" if name == "-" else name
            raise CommandError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); nothing was changed."
            ) from exc
