"""Writes for assistants: importing and exporting them as code.

``assistants_import`` applies a document (see ``assistants.config``) in one
transaction: assistants are created or updated by name, their listed numbers are
created, moved to them or relabelled, and numbers they no longer list are removed
(taking every number from an assistant needs ``allow_removals``). The whole
document is checked in one pass and every problem reported together; anything
wrong anywhere refuses the whole document and writes nothing. ``dry_run`` does
every check and reports the same changes, then rolls them back. A removed number's
past calls keep the number they were made to (``Call.to_number``); only their
link to the ``PhoneNumber`` row is cleared.
``assistants_export`` produces the same document from the database, so the two
round-trip exactly. An entry's tool lists (``tools.transfer``, ``tools.handoff``,
``tools.webhooks``) replace that assistant's rows, in list order; a list the entry
does not mention is kept. Webhook secrets are never exported: the export writes
``webhook_secrets.PLACEHOLDER``, which an import reads as "keep the stored secret"
(or make one, for a new tool).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone

from assistants import tool_validators, webhook_secrets
from assistants.config import (
    FIELD_PATHS,
    SETTING_FIELDS,
    ConfigError,
    EntrySpec,
    HandoffSpec,
    TransferSpec,
    WebhookSpec,
    check_document,
)
from assistants.models import (
    Assistant,
    HandoffRoute,
    PhoneNumber,
    TransferDestination,
    WebhookTool,
)


@dataclass
class ImportSummary:
    """What an import changed, by assistant name and by number."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    numbers_added: list[str] = field(default_factory=list)
    numbers_changed: list[str] = field(default_factory=list)
    numbers_removed: list[str] = field(default_factory=list)
    # Per updated assistant, the settings that change: name -> field names.
    updated_fields: dict[str, list[str]] = field(default_factory=dict)
    # Per moved or changed number, what happens to it ("Front desk -> Night line").
    number_changes: dict[str, str] = field(default_factory=dict)
    # Per removed number, the assistant it is taken from.
    removed_from: dict[str, str] = field(default_factory=dict)
    # Webhook tools given a new signing secret, as (assistant, tool): their
    # receivers need it, and the document never holds it.
    new_secrets: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        """One human-readable line per kind of change."""
        updated = [
            f"{name} ({', '.join(self.updated_fields[name])})"
            if self.updated_fields.get(name)
            else name
            for name in self.updated
        ]
        changed = [
            f"{number} ({self.number_changes[number]})"
            if self.number_changes.get(number)
            else number
            for number in self.numbers_changed
        ]
        removed = [
            f"{number} (from {self.removed_from[number]})"
            if self.removed_from.get(number)
            else number
            for number in self.numbers_removed
        ]
        would = "Would " if self.dry_run else ""
        parts = [
            (
                would + "create assistants" if would else "Created assistants",
                self.created,
            ),
            (would + "update assistants" if would else "Updated assistants", updated),
            ("Unchanged assistants", self.unchanged),
            (would + "add numbers" if would else "Added numbers", self.numbers_added),
            (
                would + "move or change numbers"
                if would
                else "Moved or changed numbers",
                changed,
            ),
            (would + "remove numbers" if would else "Removed numbers", removed),
        ]
        lines = [f"{title}: {', '.join(names)}" for title, names in parts if names]
        if self.new_secrets:
            tools = ", ".join(f"{a}: {t}" for a, t in self.new_secrets)
            lines.append(
                f"Would generate signing secrets for webhook tools: {tools}."
                if self.dry_run
                else f"Generated signing secrets for webhook tools: {tools}. "
                "Each receiver needs its tool's secret to verify requests: "
                "`assistants import` prints them once, below; later, make a new "
                'one in the admin (the tool\'s "Make a new signing secret").'
            )
        return lines


def assistants_export() -> dict[str, Any]:
    """Every assistant and its numbers, as an import document."""
    assistants = Assistant.objects.order_by("name").prefetch_related("phone_numbers")
    return {"assistants": [_export_entry(assistant) for assistant in assistants]}


def assistants_import(
    data: Any, *, dry_run: bool = False, allow_removals: bool = False
) -> ImportSummary:
    """Apply an import document, or raise ``ConfigError`` having written nothing.

    Every problem in the document is reported at once: its shape and types, the
    models' own checks (ranges, the one fallback), numbers owned elsewhere and
    removals not allowed. ``dry_run``: check and summarise, then roll back.
    """
    entries, errors = check_document(data)
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        errors.extend(_ownership_errors(entries))
        saved = _save_assistants(entries, summary, errors)
        _save_numbers(entries, saved, summary, errors)
        _save_tools(entries, saved, summary, errors)
        errors.extend(_removal_errors(entries, saved, summary, allow_removals))
        if errors:
            raise ConfigError(errors)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _export_entry(assistant: Assistant) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": assistant.name}
    entry.update({key: getattr(assistant, key) for key in SETTING_FIELDS})
    tools = assistant.tools().to_data()
    for webhook in tools["webhooks"]:
        webhook["secret"] = webhook_secrets.PLACEHOLDER  # never the secret itself
    entry["tools"] = tools
    entry["recording"] = {
        "enabled": assistant.recording_enabled,
        "retention_days": assistant.recording_retention_days,
    }
    entry["transcript_retention_days"] = assistant.transcript_retention_days
    entry["redact"] = list(assistant.redact or [])
    entry["phone_numbers"] = [
        # The short form when the number has nothing but its digits to say.
        phone.number
        if phone.is_active and not phone.label
        else {
            "number": phone.number,
            "label": phone.label,
            "is_active": phone.is_active,
        }
        for phone in assistant.phone_numbers.all()
    ]
    return entry


def _ownership_errors(entries: list[EntrySpec]) -> list[str]:
    """Listed numbers that belong to an assistant this document does not mention."""
    listed = {spec.number: entry for entry in entries for spec in entry.numbers or ()}
    taken = (
        PhoneNumber.objects.select_related("assistant")
        .filter(number__in=listed)
        .exclude(assistant__name__in=[entry.name for entry in entries])
    )
    return [
        f"{listed[phone.number].where}: phone_numbers: {phone.number} already "
        f'belongs to the assistant "{phone.assistant.name}", which is not in this '
        "file. Move the number in the admin first, or add that assistant to the file."
        for phone in sorted(taken, key=lambda phone: listed[phone.number].index)
    ]


def _save_assistants(
    entries: list[EntrySpec], summary: ImportSummary, errors: list[str]
) -> dict[str, Assistant]:
    existing = {
        assistant.name: assistant
        for assistant in Assistant.objects.select_for_update().filter(
            name__in=[entry.name for entry in entries]
        )
    }
    saved: dict[str, Assistant] = {}
    # Save whoever gives up the fallback role before whoever takes it, so that a
    # document moving the role between two assistants passes the one-fallback rule.
    for entry in sorted(
        entries, key=lambda entry: bool(entry.settings.get("is_fallback"))
    ):
        assistant = existing.get(entry.name) or Assistant(name=entry.name)
        changed = _apply(assistant, entry.settings)
        # Fields whose problems check_document reported are not checked again
        # (``clean`` runs whatever ``exclude`` says, so its errors are dropped).
        unchecked = _unchecked(entry, entries)
        try:
            assistant.full_clean(exclude=unchecked or None)
        except ValidationError as exc:
            errors.extend(_messages(entry.where, exc, skip=unchecked))
            continue
        if entry.has_errors:
            continue  # reported; nothing of it is written
        if assistant._state.adding:
            summary.created.append(entry.name)
        elif changed:
            summary.updated.append(entry.name)
            summary.updated_fields[entry.name] = [
                FIELD_PATHS.get(key, key) for key in changed
            ]
        else:
            summary.unchanged.append(entry.name)
        if assistant._state.adding or changed:
            assistant.save()
        saved[entry.name] = assistant
    return saved


def _unchecked(entry: EntrySpec, entries: list[EntrySpec]) -> set[str]:
    """Fields of ``entry`` whose problems ``check_document`` reported already."""
    fields = set(entry.bad_fields)
    claims = [e for e in entries if e.settings.get("is_fallback") is True]
    if entry in claims and len(claims) > 1:
        fields.add("is_fallback")  # "At most one assistant can be the fallback"
    return fields


def _save_numbers(
    entries: list[EntrySpec],
    saved: dict[str, Assistant],
    summary: ImportSummary,
    errors: list[str],
) -> None:
    listed = {
        spec.number: (entry, spec) for entry in entries for spec in entry.numbers or ()
    }
    current = {
        phone.number: phone
        for phone in PhoneNumber.objects.select_for_update()
        .select_related("assistant")
        .filter(number__in=listed)
    }
    for number, (entry, spec) in listed.items():
        if entry.name not in saved:
            continue  # its assistant was refused; that is reported already
        phone = current.get(number) or PhoneNumber(number=number)
        before = (phone.assistant_id, phone.label, phone.is_active)
        owner = phone.assistant.name if phone.assistant_id else ""
        phone.assistant = saved[entry.name]
        phone.label, phone.is_active = spec.label, spec.is_active
        try:
            phone.full_clean()
        except ValidationError as exc:
            errors.extend(_messages(f"{entry.where}: phone_numbers: {number}", exc))
            continue
        if phone._state.adding:
            summary.numbers_added.append(number)
        elif before != (phone.assistant_id, phone.label, phone.is_active):
            summary.numbers_changed.append(number)
            if owner != entry.name:
                summary.number_changes[number] = f"moved from {owner} to {entry.name}"
            else:
                summary.number_changes[number] = "label or active changed"
        else:
            continue
        phone.save()


def _removal_errors(
    entries: list[EntrySpec],
    saved: dict[str, Assistant],
    summary: ImportSummary,
    allow_removals: bool,
) -> list[str]:
    """Remove the numbers entries no longer list; refuse leaving one with none.

    Past calls to a removed number keep it in ``Call.to_number``; their
    ``phone_number`` link becomes empty (``on_delete=SET_NULL``).
    """
    listed = {spec.number for entry in entries for spec in entry.numbers or ()}
    errors = []
    for entry in entries:
        if entry.numbers is None or entry.name not in saved:
            continue
        assistant = saved[entry.name]
        stale = list(
            assistant.phone_numbers.exclude(number__in=listed).values_list(
                "number", flat=True
            )
        )
        if not stale:
            continue
        if (
            not allow_removals
            and not assistant.phone_numbers.filter(number__in=listed).exists()
        ):
            errors.append(
                f"{entry.where}: phone_numbers: this would remove every number "
                f"from {entry.name} ({', '.join(stale)}), so it would answer no "
                "calls. Pass --allow-removals (allow_removals=True) if that is "
                "what you want, or list the numbers to keep."
            )
            continue
        summary.numbers_removed.extend(stale)
        summary.removed_from.update(dict.fromkeys(stale, entry.name))
        assistant.phone_numbers.filter(number__in=stale).delete()
    return errors


def _apply(assistant: Assistant, settings: dict[str, Any]) -> list[str]:
    """Set the given settings on ``assistant``; the names of those that changed."""
    changed = []
    for key, value in settings.items():
        if isinstance(Assistant._meta.get_field(key), models.FloatField):
            value = float(value)
        if getattr(assistant, key) != value:
            setattr(assistant, key, value)
            changed.append(key)
    return changed


def _messages(
    where: str, exc: ValidationError, *, skip: set[str] | None = None
) -> list[str]:
    return [
        f"{where}: {message}"
        if key == NON_FIELD_ERRORS
        else f"{where}: {FIELD_PATHS.get(key, key)}: {message}"
        for key, messages in exc.message_dict.items()
        if key not in (skip or ())
        for message in messages
    ]


# -- tool rows -------------------------------------------------------------------


def _save_tools(
    entries: list[EntrySpec],
    saved: dict[str, Assistant],
    summary: ImportSummary,
    errors: list[str],
) -> None:
    """Replace each entry's listed tool rows; report every row's problems.

    Rows of an entry that was refused are still checked (against the stored
    assistant, or an unsaved one), so that one pass reports everything; nothing
    of them is saved.
    """
    named = {entry.name for entry in entries}
    stored = {a.name: a for a in Assistant.objects.filter(name__in=named)}
    for entry in entries:
        assistant = (
            saved.get(entry.name)
            or stored.get(entry.name)
            or Assistant(name=entry.name)
        )
        found = len(errors)
        rows = entry.tools
        transfers = _check_transfers(entry, assistant, rows.transfer, errors)
        handoffs = _check_handoffs(entry, assistant, rows.handoff, saved, named, errors)
        generated: list[str] = []
        webhooks = _check_webhooks(entry, assistant, rows.webhooks, errors, generated)
        _check_across(entry, assistant, errors)
        if entry.name not in saved or entry.has_errors or len(errors) > found:
            continue
        summary.new_secrets.extend((entry.name, name) for name in generated)
        changed = [
            key
            for key, new_rows in (
                ("tools.transfer", transfers),
                ("tools.handoff", handoffs),
                ("tools.webhooks", webhooks),
            )
            if new_rows is not None and _replace_rows(assistant, key, new_rows)
        ]
        if changed and entry.name in summary.unchanged:
            summary.unchanged.remove(entry.name)
            summary.updated.append(entry.name)
        if changed and entry.name in summary.updated:
            summary.updated_fields.setdefault(entry.name, []).extend(changed)


def _check_transfers(
    entry: EntrySpec,
    assistant: Assistant,
    specs: tuple[TransferSpec, ...] | None,
    errors: list[str],
) -> list[TransferDestination] | None:
    if specs is None:
        return None
    existing = (
        {row.name: row for row in assistant.transfer_destinations.all()}
        if assistant.pk
        else {}
    )
    rows = []
    for position, spec in enumerate(specs):
        row = existing.pop(spec.name, None) or TransferDestination(name=spec.name)
        row.assistant = assistant
        row.number, row.description = spec.number, spec.description
        row.message, row.position = spec.message, position
        _clean_row(row, f"{entry.where}: tools.transfer[{position}]", errors)
        rows.append(row)
    return rows


def _check_handoffs(
    entry: EntrySpec,
    assistant: Assistant,
    specs: tuple[HandoffSpec, ...] | None,
    saved: dict[str, Assistant],
    named: set[str],
    errors: list[str],
) -> list[HandoffRoute] | None:
    if specs is None:
        return None
    existing = (
        {row.target_id: row for row in assistant.handoff_routes.all()}
        if assistant.pk
        else {}
    )
    others = {
        other.name: other
        for other in Assistant.objects.filter(
            name__in=[spec.assistant for spec in specs]
        )
    }
    rows, seen = [], set()
    for position, spec in enumerate(specs):
        where = f"{entry.where}: tools.handoff[{position}]"
        if spec.assistant in seen:
            errors.append(f'{where}.assistant: "{spec.assistant}" is listed twice.')
            continue
        seen.add(spec.assistant)
        target = saved.get(spec.assistant) or others.get(spec.assistant)
        if target is None:
            if spec.assistant not in named:
                errors.append(
                    f'{where}.assistant: no assistant is named "{spec.assistant}", '
                    "in this file or in the database."
                )
            continue  # else: refused in this file, and reported there
        if spec.assistant == entry.name:
            errors.append(
                f"{where}.assistant: an assistant cannot hand a call off to itself."
            )
            continue
        row = existing.pop(target.pk, None) or HandoffRoute()
        row.assistant, row.target = assistant, target
        row.description, row.position = spec.description, position
        _clean_row(row, where, errors)
        rows.append(row)
    return rows


def _check_webhooks(
    entry: EntrySpec,
    assistant: Assistant,
    specs: tuple[WebhookSpec, ...] | None,
    errors: list[str],
    generated: list[str],
) -> list[WebhookTool] | None:
    if specs is None:
        return None
    existing = (
        {row.name: row for row in assistant.webhook_tools.all()} if assistant.pk else {}
    )
    rows = []
    for position, spec in enumerate(specs):
        row = existing.pop(spec.name, None) or WebhookTool(name=spec.name)
        row.assistant = assistant
        row.description, row.url = spec.description, spec.url
        row.parameters = {} if spec.parameters is None else spec.parameters
        row.timeout_seconds, row.filler = spec.timeout_seconds, spec.filler
        row.position = position
        if spec.secret is None or spec.secret == webhook_secrets.PLACEHOLDER:
            # Keep the stored secret; a new tool gets one.
            if not row.secret:
                row.secret = webhook_secrets.generate_secret()
                generated.append(spec.name)
        elif spec.secret != row.secret:
            if row.pk:
                row.secret_rotated_at = timezone.now()
            row.secret = spec.secret
        _clean_row(row, f"{entry.where}: tools.webhooks[{position}]", errors)
        rows.append(row)
    return rows


def _check_across(entry: EntrySpec, assistant: Assistant, errors: list[str]) -> None:
    """Rules across lists: one name per tool, keypad transfers that exist.

    A list the entry does not mention is the assistant's stored one.
    """
    if entry.has_errors:
        return  # its rows may be missing; their problems are reported already
    rows = entry.tools

    def stored(related: str) -> list[str]:
        if not assistant.pk:
            return []
        manager = getattr(assistant, related)
        return list(manager.values_list("name", flat=True))

    transfer_names = (
        [t.name for t in rows.transfer]
        if rows.transfer is not None
        else stored("transfer_destinations")
    )
    webhook_names = (
        [w.name for w in rows.webhooks]
        if rows.webhooks is not None
        else stored("webhook_tools")
    )
    for kind, index, problem in tool_validators.name_clashes(
        transfer_names, webhook_names
    ):
        errors.append(f"{entry.where}: tools.{kind}[{index}].name: {problem}")
    if "keypad" in entry.settings or rows.transfer is not None:
        keypad = entry.settings.get("keypad", assistant.keypad)
        errors.extend(
            f"{entry.where}: tools.keypad: {problem}"
            for problem in tool_validators.keypad_problems(keypad, transfer_names)
        )


def _clean_row(row: models.Model, where: str, errors: list[str]) -> None:
    # The assistant may not be saved yet; (assistant, name) duplicates are
    # reported by _check_across, by name.
    try:
        row.full_clean(exclude=["assistant", "position"])
    except ValidationError as exc:
        errors.extend(
            f"{where}: {message}"
            if key == NON_FIELD_ERRORS
            else f"{where}.{key}: {message}"
            for key, messages in exc.message_dict.items()
            for message in messages
        )


# What a row's export says, to tell whether an import changed anything.
_ROW_DATA = {
    "tools.transfer": ("name", "number", "description", "message", "position"),
    "tools.handoff": ("target_id", "description", "position"),
    "tools.webhooks": (
        "name",
        "description",
        "url",
        "parameters",
        "timeout_seconds",
        "filler",
        "secret",
        "position",
    ),
}
_RELATED = {
    "tools.transfer": "transfer_destinations",
    "tools.handoff": "handoff_routes",
    "tools.webhooks": "webhook_tools",
}


def _replace_rows(assistant: Assistant, key: str, rows: list[Any]) -> bool:
    """Make ``rows`` the assistant's rows of one kind; whether anything changed."""
    manager = getattr(assistant, _RELATED[key])
    fields = _ROW_DATA[key]

    def data(items: Any) -> list[tuple[Any, ...]]:
        return [tuple(getattr(item, f) for f in fields) for item in items]

    current = list(manager.all())
    if data(current) == data(rows):
        return False
    keep = {row.pk for row in rows if row.pk}
    manager.exclude(pk__in=keep).delete()
    for row in rows:
        row.save()
    return True
