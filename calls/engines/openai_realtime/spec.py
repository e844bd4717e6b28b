"""What the Realtime engine declares (``calls.engines.spec``), and Azure's flavour.

Azure OpenAI's GA Realtime endpoint speaks the same protocol: its spec is this one
with its own name, label, settings and engine class (URL and ``api-key`` header),
and its models are the customer's deployment names.
"""

from __future__ import annotations

import dataclasses

from calls.engines.openai_realtime.engine import (
    AZURE_NAME,
    NAME,
    AzureRealtimeEngine,
    OpenAIRealtimeEngine,
)
from calls.engines.spec import Billing, Capabilities, EngineSpec

VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
# OpenAI's GA Realtime models and the transcription models its sessions accept.
MODELS = (
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-mini",
)
TRANSCRIPTION_MODELS = (
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe",
    "gpt-transcribe",
    "whisper-1",
)

SPEC = EngineSpec(
    name=NAME,
    label="OpenAI Realtime (GA)",
    family=OpenAIRealtimeEngine.label,
    model_prefix="gpt-realtime",
    factory=OpenAIRealtimeEngine,
    voices=VOICES,
    models=MODELS,
    transcription_models=TRANSCRIPTION_MODELS,
    settings=OpenAIRealtimeEngine.setting_names,
    billing=Billing(unit="tokens"),
    can=Capabilities(),
)

AZURE_SPEC = dataclasses.replace(
    SPEC,
    name=AZURE_NAME,
    label="Azure OpenAI Realtime (GA)",
    factory=AzureRealtimeEngine,
    settings=AzureRealtimeEngine.setting_names,
    can=dataclasses.replace(SPEC.can, model_is_deployment=True),
)
