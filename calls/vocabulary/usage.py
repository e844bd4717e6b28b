"""The usage counters every call carries, named once.

Each is a column of ``calls.models.Call``, a key of the bridge's ``AddUsage`` and of
``calls.pricing``'s input. Plain Python (no Django), so the pure modules can share it.
"""

from __future__ import annotations

# Token counters (OpenAI Realtime; GPT-Live's backend reports the text ones).
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "cached_text_tokens",
    "cached_audio_tokens",
    "output_text_tokens",
    "output_audio_tokens",
)

# GPT-Live bills whole seconds of session, not audio tokens: its own column.
SESSION_SECONDS_FIELD = "session_seconds"

USAGE_FIELDS = (*TOKEN_FIELDS, SESSION_SECONDS_FIELD)
