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
round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction

from assistants.config import SETTING_FIELDS, ConfigError, EntrySpec, check_document
from assistants.models import Assistant, PhoneNumber


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
        return [f"{title}: {', '.join(names)}" for title, names in parts if names]


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
        errors.extend(_removal_errors(entries, saved, summary, allow_removals))
        if errors:
            raise ConfigError(errors)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _export_entry(assistant: Assistant) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": assistant.name}
    entry.update({key: getattr(assistant, key) for key in SETTING_FIELDS})
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
            summary.updated_fields[entry.name] = changed
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
        else f"{where}: {key}: {message}"
        for key, messages in exc.message_dict.items()
        if key not in (skip or ())
        for message in messages
    ]
