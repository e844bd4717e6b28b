"""The usage counters every call carries, named once.

Each is a column of ``calls.models.Call``, a key of the call state's ``AddUsage``
and of ``calls.pricing``'s input. Standard library only, so every layer can share it.
"""

from __future__ import annotations

# Token counters (an engine billed by session time may report only the text ones).
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

# Engines billed by session time report whole seconds of it: their own column.
SESSION_SECONDS_FIELD = "session_seconds"

USAGE_FIELDS = (*TOKEN_FIELDS, SESSION_SECONDS_FIELD)
