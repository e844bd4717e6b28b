from __future__ import annotations

from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "assistants"
    verbose_name = "Assistants"

    def ready(self) -> None:
        from assistants import checks  # noqa: F401  (registers the system checks)
