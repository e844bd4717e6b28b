"""The dev-tools app: installed with DEBUG on or DEVTOOLS=true, never in the image."""

from __future__ import annotations

from django.apps import AppConfig


class DevToolsConfig(AppConfig):
    name = "calls.tooling"
    label = "devtools"
    verbose_name = "Developer tools"
