"""The deployment's TOOL_FILLER_AFTER_MS reaches each call's state."""

from __future__ import annotations

from typing import Any

import pytest

from calls.runtime.assembly import build_runner
from calls.vocabulary.persona import Persona

pytestmark = pytest.mark.django_db


class NoTwilio:
    async def send_text(self, text: str) -> None:
        raise AssertionError("nothing is sent")

    async def close(self, code: int | None) -> None:
        raise AssertionError("nothing is closed")


def test_a_calls_filler_waits_as_long_as_the_deployment_says(settings: Any) -> None:
    settings.TOOL_FILLER_AFTER_MS = 2_500
    runner = build_runner(
        call_sid="CA" + "8" * 32, persona=Persona(), twilio=NoTwilio()
    )
    assert runner.state.filler.after_ms == 2_500
