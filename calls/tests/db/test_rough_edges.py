"""A newcomer's first steps: the demo's assistant, the sample WAV, the favicon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from assistants.models import Assistant
from calls.tooling.management.commands.demo_call import DEMO_NAME, ensure_demo_assistant
from calls.tooling.management.commands.simulate_call import SAMPLE_WAV
from calls.tooling.simulators.audio import duration_ms, read_wav


def test_it_says_it_created_the_demo_assistant(db: Any) -> None:
    first = ensure_demo_assistant()
    assert first.startswith(f'Created the assistant "{DEMO_NAME}" answering +1555')
    assert ensure_demo_assistant().startswith("Using the assistant")
    assert Assistant.objects.filter(name=DEMO_NAME).count() == 1


def test_it_ships_a_small_sample_wav_for_simulate_call() -> None:
    path = Path(settings.BASE_DIR) / SAMPLE_WAV
    assert path.stat().st_size < 32_000
    assert 1000 <= duration_ms(read_wav(path)) <= 2000


def test_it_has_a_favicon(client: Client) -> None:
    assert finders.find("calls/favicon.svg")
    html = client.get("/accounts/login/").content.decode()
    assert 'rel="icon" href="/static/calls/favicon.svg"' in html
