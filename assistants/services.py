"""Writes for assistants: importing and exporting them as code.

``assistants_import`` applies a document (see ``assistants.config``) in one
transaction: assistants are created or updated by name, their listed numbers are
created, moved to them or relabelled, and numbers they no longer list are removed.
Anything wrong anywhere refuses the whole document and writes nothing.
``assistants_export`` produces the same document from the database, so the two
round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction

from assistants.config import SETTING_FIELDS, ConfigError, EntrySpec, parse_document
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

    def lines(self) -> list[str]:
        """One human-readable line per kind of change."""
        parts = [
            ("Created assistants", self.created),
            ("Updated assistants", self.updated),
            ("Unchanged assistants", self.unchanged),
            ("Added numbers", self.numbers_added),
            ("Moved or changed numbers", self.numbers_changed),
            ("Removed numbers", self.numbers_removed),
        ]
        return [f"{title}: {', '.join(names)}" for title, names in parts if names]


def assistants_export() -> dict[str, Any]:
    """Every assistant and its numbers, as an import document."""
    assistants = Assistant.objects.order_by("name").prefetch_related("phone_numbers")
    return {"assistants": [_export_entry(assistant) for assistant in assistants]}


def assistants_import(data: Any) -> ImportSummary:
    """Apply an import document, or raise ``ConfigError`` having written nothing."""
    entries = parse_document(data)
    summary = ImportSummary()
    with transaction.atomic():
        errors = _ownership_errors(entries)
        if errors:
            raise ConfigError(errors)
        saved = _save_assistants(entries, summary)
        _save_numbers(entries, saved, summary)
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
    entries: list[EntrySpec], summary: ImportSummary
) -> dict[str, Assistant]:
    existing = {
        assistant.name: assistant
        for assistant in Assistant.objects.select_for_update().filter(
            name__in=[entry.name for entry in entries]
        )
    }
    saved: dict[str, Assistant] = {}
    errors: list[str] = []
    # Save whoever gives up the fallback role before whoever takes it, so that a
    # document moving the role between two assistants passes the one-fallback rule.
    for entry in sorted(
        entries, key=lambda entry: bool(entry.settings.get("is_fallback"))
    ):
        assistant = existing.get(entry.name) or Assistant(name=entry.name)
        changed = _apply(assistant, entry.settings)
        try:
            assistant.full_clean()
        except ValidationError as exc:
            errors.extend(_messages(entry.where, exc))
            continue
        if assistant._state.adding:
            summary.created.append(entry.name)
        elif changed:
            summary.updated.append(entry.name)
        else:
            summary.unchanged.append(entry.name)
        if assistant._state.adding or changed:
            assistant.save()
        saved[entry.name] = assistant
    if errors:
        raise ConfigError(errors)
    return saved


def _save_numbers(
    entries: list[EntrySpec], saved: dict[str, Assistant], summary: ImportSummary
) -> None:
    listed = {
        spec.number: (entry, spec) for entry in entries for spec in entry.numbers or ()
    }
    current = {
        phone.number: phone
        for phone in PhoneNumber.objects.select_for_update().filter(number__in=listed)
    }
    errors: list[str] = []
    for number, (entry, spec) in listed.items():
        phone = current.get(number) or PhoneNumber(number=number)
        before = (phone.assistant_id, phone.label, phone.is_active)
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
        else:
            continue
        phone.save()
    if errors:
        raise ConfigError(errors)
    for entry in entries:
        if entry.numbers is not None:
            stale = saved[entry.name].phone_numbers.exclude(number__in=listed)
            summary.numbers_removed.extend(stale.values_list("number", flat=True))
            stale.delete()


def _apply(assistant: Assistant, settings: dict[str, Any]) -> bool:
    """Set the given settings on ``assistant``; did any value change?"""
    changed = False
    for key, value in settings.items():
        if isinstance(Assistant._meta.get_field(key), models.FloatField):
            value = float(value)
        if getattr(assistant, key) != value:
            setattr(assistant, key, value)
            changed = True
    return changed


def _messages(where: str, exc: ValidationError) -> list[str]:
    return [
        f"{where}: {message}"
        if key == NON_FIELD_ERRORS
        else f"{where}: {key}: {message}"
        for key, messages in exc.message_dict.items()
        for message in messages
    ]
