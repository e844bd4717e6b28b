"""The registered engines' specs: what the rest of the product reads about them."""

from __future__ import annotations

import pytest

from calls.engines import registry
from calls.engines.base import EngineSettings
from calls.engines.check import settings_sent
from calls.engines.spec import EngineSpec
from calls.models import EndReason
from calls.vocabulary import end_reasons
from calls.vocabulary.persona import DEFAULTS, Persona


def test_each_engine_has_one_name_and_the_default_is_one_of_them() -> None:
    names = registry.names()
    assert len(set(names)) == len(names) == len(registry.specs())
    assert DEFAULTS.engine in names
    assert registry.deployment_default(object()) == DEFAULTS.engine


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda spec: spec.name)
def test_a_spec_holds_what_its_engine_takes(spec: EngineSpec) -> None:
    assert spec.voices and spec.models and spec.label and spec.family
    assert all(spec.has_model(model) for model in spec.models)
    assert spec.settings.api_key and spec.settings.url
    if spec.billing.unit == "session_seconds":
        assert spec.billing.per_minute_setting
    engine = registry.build(spec.name, registry_settings())
    assert (engine.name, engine.label) == (spec.name, spec.family)


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda spec: spec.name)
def test_the_protocol_transcribes_the_caller_as_the_spec_says(
    spec: EngineSpec,
) -> None:
    engine = registry.build(spec.name, registry_settings())
    without = Persona(engine=spec.name, transcription_model="")
    with_model = Persona(engine=spec.name, transcription_model="whisper-1")
    always = spec.can.caller_transcription == "always"
    assert engine.protocol(without).transcribes_caller is always
    assert engine.protocol(with_model).transcribes_caller


def test_azure_is_the_realtime_flavour_with_its_own_settings() -> None:
    realtime, azure = registry.spec("openai-realtime"), registry.spec("azure-realtime")
    assert (azure.voices, azure.models) == (realtime.voices, realtime.models)
    assert azure.settings.api_key == "AZURE_OPENAI_API_KEY"
    assert azure.can.model_is_deployment and not realtime.can.model_is_deployment

    class Legacy:
        REALTIME_PROVIDER = "azure"

    assert registry.deployment_default(Legacy()) == "azure-realtime"


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(registry.UnknownEngine, match="no engine named 'nope'"):
        registry.spec("nope")
    assert registry.label("nope") == "nope"


def test_end_reason_labels_name_no_engine() -> None:
    assert dict(EndReason.choices) == end_reasons.LABELS
    assert end_reasons.LABELS[end_reasons.ENGINE_ERROR] == "Voice engine error"
    assert not any("Realtime" in label for label in end_reasons.LABELS.values())


def registry_settings() -> EngineSettings:
    return EngineSettings(api_key="k", url="wss://engine.example/v1")


def test_the_assistant_check_reports_what_the_engine_takes() -> None:
    live = registry.spec("openai-live")
    persona = Persona(engine=live.name, transcription_model="", backend_model="b-1")
    lines = settings_sent(persona, live.can)
    assert "caller transcribed by the engine" in lines
    assert "turns decided by the model" in lines
    assert "backend model b-1" in lines
    realtime = settings_sent(Persona(), registry.spec("openai-realtime").can)
    assert any(line.startswith("server VAD") for line in realtime)
    assert not any(line.startswith("backend") for line in realtime)


def test_the_persona_defaults_are_ones_the_default_engine_knows() -> None:
    default = registry.spec(DEFAULTS.engine)
    assert DEFAULTS.voice in default.voices
    assert DEFAULTS.model == default.models[0]
    assert DEFAULTS.transcription_model in default.transcription_models
    assert DEFAULTS.backend_model in registry.backend_models()
