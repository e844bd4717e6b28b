"""The kinds of personal data transcripts can be redacted for.

The names the assistants JSON's ``"redact"`` list and the admin accept; the
detectors themselves live in ``calls.privacy.redaction``, which imports this tuple
so that the two never disagree. Pure module: no Django.
"""

from __future__ import annotations

REDACTION_KINDS: tuple[str, ...] = (
    "card_number",
    "ssn",
    "email",
    "phone_number",
    "iban",
    "ip_address",
)
