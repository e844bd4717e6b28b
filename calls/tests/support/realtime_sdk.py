"""The openai SDK's GA Realtime event types as validators, and the beta-only session
fields the GA server rejects (the SDK models allow extra keys, so those are looked
for separately). The SDK is a test-only dependency."""

from __future__ import annotations

from typing import Annotated, Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import Field, TypeAdapter

ClientTA: TypeAdapter[Any] = TypeAdapter(
    Annotated[RealtimeClientEvent, Field(discriminator="type")]
)
ServerTA: TypeAdapter[Any] = TypeAdapter(
    Annotated[RealtimeServerEvent, Field(discriminator="type")]
)

# Beta-only session fields (dead since 2026-05-12); the GA server rejects them.
BETA_KEYS = {
    "temperature",
    "modalities",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "max_response_output_tokens",
}
# Legal inside audio.input/audio.output, beta-only at the session's top level.
BETA_TOP_LEVEL = {"turn_detection", "voice"}


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        keys = set(value)
        for child in value.values():
            keys |= all_keys(child)
        return keys
    if isinstance(value, list):
        return set().union(*(all_keys(v) for v in value)) if value else set()
    return set()
