"""Who sees callers' numbers in full, and how a number is masked for everyone else.

The one masking policy for the staff pages, the live view, the exports, the admin
and ``Call.__str__``. Numbers are masked unless ``CALLS_MASK_NUMBERS`` is off or the
user has ``calls.view_caller_number`` (superusers have every permission).

This module imports nothing of ``calls`` (only Django's settings) so that
``calls.models`` can use ``mask_number`` without an import cycle.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

# ``CallDirection.INBOUND``'s value, spelled out rather than imported so that
# ``calls.models`` can import this module (a test checks the two agree).
INBOUND = "inbound"


# At least this many characters of a number are hidden, whatever its length (a
# NANP number keeps a country code, area code and last four digits in sight).
MIN_HIDDEN = 3


def mask_number(number: str) -> str:
    """+15551234567 -> +1555•••4567: enough to recognise, not to dial.

    Short numbers are masked too: at least ``MIN_HIDDEN`` characters, and at
    least all but nine, are hidden; what stays is split between both ends.
    """
    if not number:
        return number
    hidden = min(len(number), max(MIN_HIDDEN, len(number) - 9))
    shown = len(number) - hidden
    suffix = min(4, shown // 2)
    prefix = shown - suffix
    return number[:prefix] + "•" * hidden + number[len(number) - suffix :]


def can_see_numbers(user: Any) -> bool:
    """Whether ``user`` sees callers' numbers in full (may query permissions)."""
    if not settings.CALLS_MASK_NUMBERS:
        return True
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.has_perm("calls.view_caller_number"))


def shown_numbers(
    *, direction: str, from_number: str, to_number: str, show: bool
) -> tuple[str, str]:
    """(from, to) as a viewer may see them: the other party's number is masked."""
    if show:
        return from_number, to_number
    if direction == INBOUND:
        return mask_number(from_number), to_number
    return from_number, mask_number(to_number)
