"""What an engine declares about itself: one ``EngineSpec`` per engine. No Django.

Everything outside an engine's package that depends on the engine reads its
spec through ``calls.engines.registry``: the admin's choices and per-engine
fieldsets, the checks of an assistant's voice and models, the model-name
warnings, pricing, which settings the runner connects with, and whether a call
transcribes its caller. Nothing outside the package names an engine.

Settings are named, not read: the spec says which deployment settings hold the
engine's URL, key and prices, and whoever has the settings (the runner's
assembly, pricing) reads them by those names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from calls.engines.base import ConnectFn, Engine, EngineSettings

EngineFactory = Callable[[EngineSettings, ConnectFn | None], Engine]

# The token kinds a bill can have lines for (``calls.pricing``'s line keys).
TOKEN_KINDS = (
    "input_audio",
    "input_text",
    "cached_audio",
    "cached_text",
    "output_audio",
    "output_text",
)
TEXT_TOKEN_KINDS = ("input_text", "cached_text", "output_text")


@dataclass(frozen=True, slots=True)
class LegacySettings:
    """Deprecated settings an engine still falls back to while its own are empty,
    if ``when_setting`` has the value ``equals`` (``REALTIME_PROVIDER=azure``)."""

    when_setting: str
    equals: str
    api_key: str
    url: str


@dataclass(frozen=True, slots=True)
class SettingNames:
    """The deployment settings an engine connects with, by name."""

    api_key: str
    url: str
    legacy: LegacySettings | None = None


@dataclass(frozen=True, slots=True)
class Billing:
    """How the engine's calls are billed.

    ``tokens``: per million tokens of each kind in ``token_kinds``, at the
    deployment's token prices. ``session_seconds``: per minute of session, at the
    price in the setting ``per_minute_setting``, plus the tokens in
    ``token_kinds`` (e.g. a backend model's text tokens).
    """

    unit: Literal["tokens", "session_seconds"] = "tokens"
    token_kinds: tuple[str, ...] = TOKEN_KINDS
    per_minute_setting: str = ""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the engine can do, for the pages and the call state."""

    # The caller's turn is set by our VAD settings (turn detection, threshold,
    # padding, silence, eagerness); without them the model decides turns itself.
    vad_settings: bool = True
    # "setting": the caller is transcribed if the assistant names a transcription
    # model; "always": the engine transcribes both sides itself.
    caller_transcription: Literal["setting", "always"] = "setting"
    # A response can be cancelled exactly (else the model is asked to stop).
    cancel: bool = True
    # The assistant's item can be cut to the audio the caller heard.
    truncate: bool = True
    # Tools and business rules run on a backend model the assistant names.
    backend_model: bool = False
    # The persona's model is a deployment name of the customer's own: known
    # model names are suggestions, never warned about.
    model_is_deployment: bool = False


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """One engine, as the rest of the product knows it."""

    # The persona's ``engine`` value; stored on assistants and call snapshots.
    name: str
    # What staff read in the admin and on the call pages.
    label: str
    # The family its models and messages go by ("Realtime"): what logs and
    # errors call the engine, and what its model names start with.
    family: str
    model_prefix: str
    factory: EngineFactory
    voices: tuple[str, ...]
    # Known voice models, best first (suggestions; other names may work).
    models: tuple[str, ...]
    settings: SettingNames
    transcription_models: tuple[str, ...] = ()
    backend_models: tuple[str, ...] = ()
    billing: Billing = Billing()
    can: Capabilities = Capabilities()

    def has_model(self, model: str) -> bool:
        """Whether ``model`` is one of this engine's family by name or prefix."""
        return model in self.models or model.startswith(self.model_prefix)
