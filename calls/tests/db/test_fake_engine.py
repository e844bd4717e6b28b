"""A new engine is one spec and one registry line: a fake engine, registered by a
fixture that patches the registry and nothing else, shows in the admin's choices,
in the assistants' validation, in pricing, on the call pages and in the runner's
connection settings."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from assistants.engine_rules import engine_problems, model_warnings
from assistants.models import Assistant
from calls import pricing
from calls.engines import registry
from calls.engines.openai_realtime import OpenAIRealtimeEngine
from calls.engines.spec import (
    TEXT_TOKEN_KINDS,
    Billing,
    Capabilities,
    EngineSpec,
    SettingNames,
)
from calls.review.display import engine_label
from calls.runtime.assembly import engine_settings

FAKE = EngineSpec(
    name="fake-engine",
    label="Fake Engine (test)",
    family="Fake",
    model_prefix="fake-",
    # It speaks the Realtime protocol: any factory of an ``Engine`` will do.
    factory=OpenAIRealtimeEngine,
    voices=("pebble", "marin"),
    models=("fake-voice-1", "fake-voice-mini"),
    transcription_models=("fake-transcribe",),
    settings=SettingNames(api_key="FAKE_ENGINE_KEY", url="FAKE_ENGINE_URL"),
    billing=Billing(
        unit="session_seconds",
        token_kinds=TEXT_TOKEN_KINDS,
        per_minute_setting="PRICE_FAKE_PER_MINUTE",
    ),
    can=Capabilities(vad_settings=False, caller_transcription="setting"),
)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineSpec]:
    """The registry with one more engine, for this test only."""
    monkeypatch.setattr(registry, "SPECS", (*registry.SPECS, FAKE))
    yield FAKE


def add_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Fake",
        "unavailable_message": "Sorry.",
        "engine": FAKE.name,
        "voice": "pebble",
        "model": "fake-voice-1",
        "backend_model": "",
        "temperature": "0.8",
        "turn_detection": "server_vad",
        "vad_threshold": "0.5",
        "vad_prefix_padding_ms": "300",
        "vad_silence_duration_ms": "500",
        "vad_eagerness": "auto",
        "max_call_duration_seconds": "600",
        "is_active": "on",
    }
    for prefix in (
        "phone_numbers",
        "transfer_destinations",
        "handoff_routes",
        "webhook_tools",
    ):
        form[f"{prefix}-TOTAL_FORMS"] = "0"
        form[f"{prefix}-INITIAL_FORMS"] = "0"
    return {**form, **changes}


def test_a_registered_engine_shows_in_the_admin_choices(
    fake_engine: EngineSpec, admin_client: Any
) -> None:
    html = admin_client.get("/admin/assistants/assistant/add/").content.decode()
    assert '<option value="fake-engine">Fake Engine (test)</option>' in html
    assert '<option value="pebble">Pebble</option>' in html  # its voice
    assert '<option value="fake-voice-1">' in html  # its models, suggested
    assert '<option value="fake-transcribe">' in html
    # Its capabilities pick the per-engine fieldsets it shares.
    assert "engine-azure-realtime engine-fake-engine" in html  # transcription
    assert "Fake: pebble, marin" in html  # the voices it takes, under the field
    saved = admin_client.post("/admin/assistants/assistant/add/", add_form())
    assert saved.status_code == 302
    assert Assistant.objects.get(name="Fake").persona().engine == "fake-engine"


def test_a_registered_engine_is_validated_by_its_spec(
    fake_engine: EngineSpec, db: Any
) -> None:
    ok = engine_problems(
        FAKE.name, voice="pebble", model="fake-voice-1", backend_model=""
    )
    assert ok == {}
    wrong = engine_problems(
        FAKE.name, voice="alloy", model="gpt-realtime-2.1", backend_model=""
    )
    assert "Fake Engine (test) has no voice 'alloy'" in wrong["voice"]
    assert "is a Realtime model" in wrong["model"]
    assert "a Fake model (fake-voice-1, fake-voice-mini)" in wrong["model"]
    # And the other engines refuse its models.
    live = engine_problems(
        "openai-live", voice="marin", model="fake-voice-1", backend_model="x"
    )
    assert "is a Fake model" in live["model"]
    (warning,) = model_warnings(FAKE.name, "fake-voice-2")
    assert "not one fake-engine knows" in warning
    assistant = Assistant(
        name="Fake", engine=FAKE.name, voice="pebble", model="fake-voice-1"
    )
    assistant.full_clean()  # the model fields' choices are the registry's
    assistant.voice = "alloy"
    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "no voice 'alloy'" in caught.value.message_dict["voice"][0]


def test_a_registered_engine_is_priced_by_its_spec(fake_engine: EngineSpec) -> None:
    prices = pricing.Prices.from_settings(
        SimpleNamespace(PRICE_FAKE_PER_MINUTE=0.5, PRICE_INPUT_TEXT_PER_M=4.0)
    )
    usage = {"session_seconds": 120, "input_text_tokens": 1000}
    cost = pricing.estimate(usage, prices, engine=FAKE.name)
    assert [line.key for line in cost.billed_lines] == ["session", "input_text"]
    assert cost.by_time
    assert cost.total_usd == pytest.approx(1.0 + 1000 * 4.0 / 1_000_000)
    assert engine_label(FAKE.name) == "Fake Engine (test)"


def test_a_registered_engine_connects_with_the_settings_it_names(
    fake_engine: EngineSpec, settings: Any
) -> None:
    settings.FAKE_ENGINE_KEY = "fake-key"
    settings.FAKE_ENGINE_URL = "wss://fake.example/v1"
    connect = engine_settings(FAKE.name)
    assert (connect.api_key, connect.url) == ("fake-key", "wss://fake.example/v1")
