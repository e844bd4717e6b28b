"""Where staff may transfer a call: the per-deployment allow-list.

``TRANSFER_ALLOWED_PREFIXES`` (E.164 prefixes such as ``+1555`` or ``+44``) lists
the numbers a ``calls.control_call`` holder may transfer any call to. Without it,
staff may transfer a call only to its assistant's configured destinations, so a
control permission is not a way to dial premium-rate or foreign numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from calls.vocabulary.persona import Persona

PREFIX = re.compile(r"\A\+\d{1,15}\Z")


def bad_prefixes(prefixes: Iterable[str]) -> list[str]:
    """The entries that are not E.164 prefixes (the system check's test)."""
    return [prefix for prefix in prefixes if not PREFIX.match(prefix)]


def allowed_prefixes() -> tuple[str, ...]:
    return tuple(getattr(settings, "TRANSFER_ALLOWED_PREFIXES", ()) or ())


def destinations(snapshot: dict[str, Any] | None) -> tuple[str, ...]:
    """The numbers the call's assistant may transfer to (its persona snapshot)."""
    if not snapshot:
        return ()
    try:
        persona = Persona.from_snapshot(snapshot)
    except (TypeError, ValueError, KeyError):
        return ()
    return tuple(target.number for target in persona.tools.transfer)


def refusal(to: str, snapshot: dict[str, Any] | None) -> str | None:
    """Why staff may not transfer this call to ``to``, or None if they may."""
    prefixes = allowed_prefixes()
    if any(to.startswith(prefix) for prefix in prefixes):
        return None
    if to in destinations(snapshot):
        return None
    if prefixes:
        return (
            f"{to} is not one of this assistant's destinations and does not start "
            "with a prefix in TRANSFER_ALLOWED_PREFIXES (" + ", ".join(prefixes) + ")"
        )
    return (
        f"{to} is not one of this assistant's transfer destinations; set "
        "TRANSFER_ALLOWED_PREFIXES (e.g. +1555) to allow other numbers"
    )
