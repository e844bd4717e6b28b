"""Webhook signing secrets (Standard Webhooks): making, checking, hiding them.

A secret is ``whsec_`` and the base64 of random bytes. Exports never carry one:
they write ``PLACEHOLDER`` instead, and an import that reads it back keeps the
stored secret of the same assistant and tool (or makes one for a new tool).
Nothing here logs; callers must not log a secret either. Pure module: no Django.
"""

from __future__ import annotations

import base64
import binascii
import secrets

PREFIX = "whsec_"
# What exports write instead of a secret. Not valid base64 of 24+ bytes, so it can
# never be mistaken for a real secret.
PLACEHOLDER = "whsec_stored"
MIN_BYTES = 24
NEW_BYTES = 32


def generate_secret() -> str:
    """A new secret: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(NEW_BYTES)).decode("ascii")


def secret_problem(value: str) -> str:
    """Why ``value`` is not a usable secret ("" when it is). Never quotes it."""
    if not value.startswith(PREFIX):
        return f'must start with "{PREFIX}".'
    try:
        key = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return f'must be "{PREFIX}" followed by base64.'
    if len(key) < MIN_BYTES:
        return f"must encode at least {MIN_BYTES} bytes (this has {len(key)})."
    return ""


def masked(value: str) -> str:
    """Enough of a secret to tell two apart: ``whsec_…abcd``."""
    if not value:
        return "—"
    return f"{PREFIX}…{value[-4:]}"
