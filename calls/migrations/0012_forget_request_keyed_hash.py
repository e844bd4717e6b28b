"""Forget requests keep a keyed hash of the number instead of a plain SHA-256.

A plain hash beside the masked number gave the number back in at most a
thousand guesses. This migration does exactly that, once, for each existing
request (the digits hidden by the mask are tried until the SHA-256 matches), and
stores the keyed hash and the current masking instead; a number it cannot
recover cheaply keeps no hash at all.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from django.db import migrations, models
from django.utils.crypto import salted_hmac

HASH_SALT = "calls.forget.number"  # calls.privacy.forget.HASH_SALT
MAX_HIDDEN = 5  # at most 100,000 guesses a request


def recover(masked: str, digest: str) -> str | None:
    hidden = [i for i, c in enumerate(masked) if c == "•"]
    if not hidden:
        return masked if hashlib.sha256(masked.encode()).hexdigest() == digest else None
    if len(hidden) > MAX_HIDDEN:
        return None
    chars = list(masked)
    for digits in itertools.product("0123456789", repeat=len(hidden)):
        for position, digit in zip(hidden, digits, strict=True):
            chars[position] = digit
        candidate = "".join(chars)
        if hashlib.sha256(candidate.encode()).hexdigest() == digest:
            return candidate
    return None


def mask(number: str) -> str:
    """calls.privacy.masking.mask_number as it is now (migrations keep their copy)."""
    if not number:
        return number
    hidden = min(len(number), max(3, len(number) - 9))
    shown = len(number) - hidden
    suffix = min(4, shown // 2)
    return number[: shown - suffix] + "•" * hidden + number[len(number) - suffix :]


def rekey(apps: Any, schema_editor: Any) -> None:
    ForgetRequest = apps.get_model("calls", "ForgetRequest")
    for request in ForgetRequest.objects.all():
        number = recover(request.number_masked, request.number_hash)
        if number is None:
            request.number_hash = ""
        else:
            request.number_hash = salted_hmac(
                HASH_SALT, number, algorithm="sha256"
            ).hexdigest()
            request.number_masked = mask(number)
        request.save(update_fields=["number_hash", "number_masked"])


class Migration(migrations.Migration):
    dependencies = [("calls", "0011_end_reason_labels_engine_neutral")]

    operations = [
        migrations.AlterField(
            model_name="forgetrequest",
            name="number_hash",
            field=models.CharField(
                help_text="A keyed hash (HMAC-SHA256) of the number, to answer "
                "'was it done?'",
                max_length=64,
            ),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
