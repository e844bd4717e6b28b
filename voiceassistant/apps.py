"""The project's own app: it registers the settings checks (voiceassistant.checks)."""

from __future__ import annotations

from django.apps import AppConfig


class VoiceAssistantConfig(AppConfig):
    name = "voiceassistant"
    verbose_name = "Voice assistant"

    def ready(self) -> None:
        from voiceassistant import checks  # noqa: F401  (registers the system checks)
