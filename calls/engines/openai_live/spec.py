"""What the GPT-Live engine declares (``calls.engines.spec``)."""

from __future__ import annotations

from calls.engines.openai_live.engine import NAME, OpenAILiveEngine
from calls.engines.openai_realtime.spec import VOICES as REALTIME_VOICES
from calls.engines.spec import (
    TEXT_TOKEN_KINDS,
    Billing,
    Capabilities,
    EngineSpec,
)

# GPT-Live takes the Realtime voices and its own (openai.types.live.BuiltInVoice).
VOICES = tuple(
    sorted(
        {
            *REALTIME_VOICES,
            "beacon",
            "bossa",
            "cinder",
            "delta",
            "gleam",
            "meridian",
            "quartz",
            "ripple",
            "shida",
            "stone",
            "tempo",
            "vesper",
            "willow",
        }
    )
)
MODELS = ("gpt-live-1.1", "gpt-live-1")
# The backend (Responses) models it delegates tools to, e.g. the docs' examples.
BACKEND_MODELS = ("gpt-5.6-luna", "gpt-5.6-terra")

SPEC = EngineSpec(
    name=NAME,
    label="OpenAI GPT-Live",
    family=OpenAILiveEngine.label,
    model_prefix="gpt-live",
    factory=OpenAILiveEngine,
    voices=VOICES,
    models=MODELS,
    backend_models=BACKEND_MODELS,
    settings=OpenAILiveEngine.setting_names,
    # Whole seconds of session, plus the backend's text tokens (no audio tokens).
    billing=Billing(
        unit="session_seconds",
        token_kinds=TEXT_TOKEN_KINDS,
        per_minute_setting="PRICE_LIVE_PER_MINUTE",
    ),
    # The model decides turns and transcribes both sides itself; it stops when
    # asked or talked over (no exact cancel, nothing to truncate).
    can=Capabilities(
        vad_settings=False,
        caller_transcription="always",
        cancel=False,
        truncate=False,
        backend_model=True,
    ),
)
