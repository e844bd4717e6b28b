"""Assistants per engine: choices, per-engine validation on save and on import,
the GPT-Live fields in the snapshot, the admin's per-engine fieldsets, and the
settings each engine connects with."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError

from assistants.config import ConfigError
from assistants.engine_rules import engine_problems
from assistants.models import Assistant
from assistants.services import assistants_export, assistants_import
from calls.engines import registry
from calls.engines.openai_live import NAME as OPENAI_LIVE
from calls.engines.openai_live import LiveProtocol, OpenAILiveEngine
from calls.engines.openai_realtime import AzureRealtimeEngine, OpenAIRealtimeEngine
from calls.runtime.assembly import build_engine, engine_settings
from calls.vocabulary.persona import DEFAULT_BACKEND_MODEL, Persona

REALTIME_VOICES = registry.spec("openai-realtime").voices
LIVE_VOICES = registry.spec(OPENAI_LIVE).voices


def test_it_offers_gpt_live_with_its_own_voices_and_models() -> None:
    assert OPENAI_LIVE in registry.names()
    assert set(REALTIME_VOICES) < set(LIVE_VOICES)
    assert {"vesper", "willow", "marin"} <= set(LIVE_VOICES)
    assert registry.spec(OPENAI_LIVE).models == ("gpt-live-1.1", "gpt-live-1")
    assert registry.spec("openai-realtime").models[:2] == (
        "gpt-realtime-2.1",
        "gpt-realtime-2.1-mini",
    )
    assert (
        registry.spec("azure-realtime").models
        == registry.spec("openai-realtime").models
    )
    engine_field = Assistant._meta.get_field("engine")
    assert sorted(registry.names()) == sorted(
        name for name, _ in engine_field.choices or ()
    )


@pytest.mark.parametrize(
    ("engine", "voice", "model", "backend", "fields"),
    [
        (OPENAI_LIVE, "vesper", "gpt-live-1.1", "gpt-5.6-luna", []),
        (OPENAI_LIVE, "marin", "gpt-realtime-2.1", "gpt-5.6-luna", ["model"]),
        (OPENAI_LIVE, "marin", "gpt-live-1", "", ["backend_model"]),
        ("openai-realtime", "vesper", "gpt-realtime-2.1", "", ["voice"]),
        ("azure-realtime", "cedar", "gpt-live-1", "", ["model"]),
        ("azure-realtime", "cedar", "my-deployment", "", []),
    ],
)
def test_it_checks_settings_against_the_engine(
    engine: str, voice: str, model: str, backend: str, fields: list[str]
) -> None:
    problems = engine_problems(engine, voice=voice, model=model, backend_model=backend)
    assert sorted(problems) == fields


def test_it_validates_on_save(assistant: Assistant) -> None:
    assistant.engine = OPENAI_LIVE
    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "a Realtime model" in caught.value.message_dict["model"][0]
    assistant.model = "gpt-live-1.1"
    assistant.voice = "willow"
    assistant.full_clean()
    assistant.engine = ""  # the deployment's default: Realtime
    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "no voice 'willow'" in caught.value.message_dict["voice"][0]


def test_it_validates_on_import_and_round_trips_the_engine(db: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        assistants_import(
            {"assistants": [{"name": "Live", "engine": OPENAI_LIVE, "voice": "ash"}]}
        )
    assert any("a Realtime model" in error for error in caught.value.errors)
    entry = {
        "name": "Live",
        "engine": OPENAI_LIVE,
        "model": "gpt-live-1",
        "voice": "shida",
        "backend_model": "gpt-5.6-terra",
        "backend_instructions": "Look orders up; never guess.",
    }
    assistants_import({"assistants": [entry]})
    exported = assistants_export()["assistants"][0]
    assert {key: exported[key] for key in entry} == entry


def test_the_snapshot_carries_the_backend_and_old_ones_read_back(
    assistant: Assistant,
) -> None:
    assistant.engine = OPENAI_LIVE
    assistant.backend_instructions = "Rules."
    snapshot = assistant.snapshot()
    assert snapshot["engine"] == OPENAI_LIVE
    assert snapshot["backend_model"] == DEFAULT_BACKEND_MODEL
    assert snapshot["backend_instructions"] == "Rules."
    old = {k: v for k, v in snapshot.items() if not k.startswith("backend")}
    persona = Persona.from_snapshot(old)
    assert persona.backend_model == DEFAULT_BACKEND_MODEL
    assert persona.backend_instructions == ""
    # GPT-Live always transcribes both sides, even with no transcription model.
    no_model = dataclasses.replace(persona, transcription_model="")
    assert LiveProtocol(no_model).transcribes_caller


def test_each_engine_gets_its_own_url_and_key(settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-openai"
    settings.OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
    settings.OPENAI_LIVE_URL = "wss://live.example/v1/live/sessions"
    settings.AZURE_OPENAI_API_KEY = "azure-key"
    settings.AZURE_OPENAI_REALTIME_URL = (
        "wss://acme.openai.azure.com/openai/v1/realtime"
    )
    settings.REALTIME_PROVIDER = "openai"
    live = engine_settings(OPENAI_LIVE)
    azure = engine_settings("azure-realtime")
    realtime = engine_settings("openai-realtime")
    assert (live.url, live.api_key) == (settings.OPENAI_LIVE_URL, "sk-openai")
    assert (azure.url, azure.api_key) == (
        settings.AZURE_OPENAI_REALTIME_URL,
        "azure-key",
    )
    azure_engine = build_engine(Persona(engine="azure-realtime"))
    assert isinstance(azure_engine, AzureRealtimeEngine)
    assert azure_engine.provider == "azure"
    assert realtime.url == settings.OPENAI_REALTIME_URL
    openai_engine = build_engine(Persona(engine="openai-realtime"))
    assert isinstance(openai_engine, OpenAIRealtimeEngine)
    assert openai_engine.provider == "openai"
    engine = build_engine(Persona(engine=OPENAI_LIVE, model="gpt-live-1.1"))
    assert isinstance(engine, OpenAILiveEngine)
    target = engine.target(Persona(engine=OPENAI_LIVE))
    assert target.url == settings.OPENAI_LIVE_URL  # no query string
    assert target.headers == {"Authorization": "Bearer sk-openai"}


def test_azure_falls_back_to_the_old_settings(settings: Any) -> None:
    settings.OPENAI_API_KEY = "old-azure-key"
    settings.OPENAI_REALTIME_URL = "wss://old.openai.azure.com/openai/v1/realtime"
    settings.AZURE_OPENAI_API_KEY = ""
    settings.AZURE_OPENAI_REALTIME_URL = ""
    settings.REALTIME_PROVIDER = "azure"
    azure = engine_settings("azure-realtime")
    assert (azure.api_key, azure.url) == ("old-azure-key", settings.OPENAI_REALTIME_URL)
    settings.REALTIME_PROVIDER = "openai"
    engine = build_engine(Persona(engine="azure-realtime"))
    assert isinstance(engine, AzureRealtimeEngine)
    with pytest.raises(ValueError, match="AZURE_OPENAI_API_KEY"):
        engine.target(Persona(engine="azure-realtime"))


def test_the_admin_greys_fields_per_engine(admin_client: Any) -> None:
    html = admin_client.get("/admin/assistants/assistant/add/").content.decode()
    assert 'name="engine"' in html
    assert "engine_fields.js" in html
    assert "engine-only engine-openai-live" in html
    assert "engine-only engine-openai-realtime engine-azure-realtime" in html
    assert "GPT-Live has no client VAD" in html
    assert "Realtime has no backend model" in html
    assert '<option value="gpt-live-1.1">' in html
    assert '<option value="gpt-5.6-luna">' in html


def test_the_admin_refuses_a_realtime_model_for_gpt_live(
    admin_client: Any, db: Any
) -> None:
    form = {
        "name": "Live",
        "unavailable_message": "Sorry.",
        "engine": OPENAI_LIVE,
        "voice": "vesper",
        "model": "gpt-realtime-2.1",
        "backend_model": "gpt-5.6-luna",
        "temperature": "0.8",
        "turn_detection": "server_vad",
        "vad_threshold": "0.5",
        "vad_prefix_padding_ms": "300",
        "vad_silence_duration_ms": "500",
        "vad_eagerness": "auto",
        "max_call_duration_seconds": "600",
        "is_active": "on",
        "phone_numbers-TOTAL_FORMS": "0",
        "phone_numbers-INITIAL_FORMS": "0",
        # The tool inlines, empty.
        "transfer_destinations-TOTAL_FORMS": "0",
        "transfer_destinations-INITIAL_FORMS": "0",
        "handoff_routes-TOTAL_FORMS": "0",
        "handoff_routes-INITIAL_FORMS": "0",
        "webhook_tools-TOTAL_FORMS": "0",
        "webhook_tools-INITIAL_FORMS": "0",
    }
    refused = admin_client.post("/admin/assistants/assistant/add/", form)
    assert refused.status_code == 200
    assert "is a Realtime model" in refused.content.decode()
    form["model"] = "gpt-live-1.1"
    saved = admin_client.post("/admin/assistants/assistant/add/", form)
    assert saved.status_code == 302
    assert Assistant.objects.get(name="Live").persona().engine == OPENAI_LIVE


def test_a_system_check_names_assistants_their_engine_cannot_run(
    assistant: Assistant,
) -> None:
    def engine_warnings() -> list[str]:
        return [
            m.msg
            for m in run_checks(databases=["default"])
            if m.id == "assistants.W002"
        ]

    assert engine_warnings() == []
    Assistant.objects.filter(pk=assistant.pk).update(voice="vesper")
    (voice,) = engine_warnings()
    assert f'Assistant "{assistant.name}" voice:' in voice
    assert "no voice 'vesper'" in voice
    Assistant.objects.filter(pk=assistant.pk).update(engine="retired-engine")
    (gone,) = engine_warnings()
    assert "names the engine 'retired-engine', which this release does not have" in gone


def test_the_admin_names_the_deployment_default_engine(
    admin_client: Any, settings: Any
) -> None:
    html = admin_client.get("/admin/assistants/assistant/add/").content.decode()
    assert '<option value="" selected>Deployment default: OpenAI Realtime (GA)<' in html
    assert 'data-default-engine="openai-realtime"' in html
    settings.REALTIME_PROVIDER = "azure"  # the deprecated way to pick Azure
    html = admin_client.get("/admin/assistants/assistant/add/").content.decode()
    assert 'data-default-engine="azure-realtime"' in html
