"""The token counters every call carries, named once.

Each is a column of ``calls.models.Call``, a key of the bridge's ``AddUsage`` and of
``calls.pricing``'s input. Plain Python (no Django), so the pure modules can share it.
"""

from __future__ import annotations

USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "cached_text_tokens",
    "cached_audio_tokens",
    "output_text_tokens",
    "output_audio_tokens",
)
