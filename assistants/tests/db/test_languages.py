"""Transcription language: ISO-639-1 codes, checked in the admin and the import;
unknown model names warned about, not refused."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from assistants.config import ConfigError
from assistants.engine_rules import model_warnings
from assistants.languages import LANGUAGES, language_problem
from assistants.models import Assistant
from assistants.services import assistants_import


def test_it_knows_every_iso_639_1_code_with_its_name() -> None:
    assert len(LANGUAGES) == 184
    assert LANGUAGES["en"] == "English"
    assert LANGUAGES["de"] == "German"
    assert all(len(code) == 2 and code.islower() for code in LANGUAGES)


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("english", 'Did you mean "en" (English)?'),
        ("en-US", 'Did you mean "en" (English)?'),
        ("pt_BR", 'Did you mean "pt" (Portuguese)?'),
        ("EN", 'must be lower case: "en"'),
        ("xx", "not an ISO-639-1 language code"),
    ],
)
def test_it_explains_what_is_not_a_language_code(value: str, hint: str) -> None:
    assert hint in language_problem(value)


@pytest.mark.parametrize("value", ["", "en", "de", "ja"])
def test_it_accepts_codes_and_no_language(value: str) -> None:
    assert language_problem(value) == ""


def test_it_refuses_a_language_name_in_the_model(assistant: Assistant) -> None:
    assistant.transcription_language = "english"
    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "transcription_language" in caught.value.message_dict
    assistant.transcription_language = "en"
    assistant.full_clean()


def test_it_refuses_a_language_name_in_the_import(db: Any) -> None:
    document = {"assistants": [{"name": "Desk", "transcription_language": "english"}]}
    with pytest.raises(ConfigError) as caught:
        assistants_import(document)
    assert any(
        "transcription_language" in e and '"en"' in e for e in caught.value.errors
    )
    assert not Assistant.objects.exists()


def test_it_warns_about_unknown_model_names_only() -> None:
    assert model_warnings("openai-realtime", "gpt-realtime-2.1", "whisper-1") == []
    (warning,) = model_warnings("openai-realtime", "gpt-realtme-2.1")
    assert '"gpt-realtme-2.1"' in warning and "may refuse" in warning
    assert len(model_warnings("openai-realtime", "x", "whispr")) == 2
    assert model_warnings("azure-realtime", "my-deployment") == []  # names are ours


def test_it_warns_about_an_unknown_model_and_imports_it(
    db: Any, tmp_path: Path
) -> None:
    path = tmp_path / "a.json"
    entry = {"name": "Desk", "engine": "openai-realtime", "model": "gpt-realtme"}
    path.write_text(json.dumps({"assistants": [entry]}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("assistants", "import", str(path), stdout=out, stderr=err)
    assert Assistant.objects.get().model == "gpt-realtme"
    assert 'Warning: Desk: model "gpt-realtme" is not one' in err.getvalue()


def test_it_names_the_language_problem_in_the_command(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    entry = {"name": "Desk", "transcription_language": "english"}
    path.write_text(json.dumps({"assistants": [entry]}), encoding="utf-8")
    with pytest.raises(CommandError, match="ISO-639-1"):
        call_command("assistants", "import", str(path), stdout=io.StringIO())
