"""``OpenAIRealtimeEngine``: where and how to open a GA Realtime leg. No Django.

OpenAI takes the model in the URL and a Bearer token; Azure OpenAI's GA endpoint
takes the deployment name as ``model`` and an ``api-key`` header (the engine
class's ``provider``).

Reference: https://platform.openai.com/docs/guides/realtime-websocket
"""

from __future__ import annotations

from urllib.parse import quote

from calls.engines.base import ConnectFn, ConnectTarget, EngineSettings
from calls.engines.openai_realtime.connector import connector
from calls.engines.openai_realtime.protocol import RealtimeProtocol
from calls.engines.spec import LegacySettings, SettingNames
from calls.vocabulary.persona import Persona

NAME = "openai-realtime"
AZURE_NAME = "azure-realtime"


def build_url(base_url: str, model: str) -> str:
    """``base_url`` plus ``model=<model>`` (``&`` if it already has a query)."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}model={quote(model, safe='')}"


def auth_headers(provider: str, api_key: str) -> dict[str, str]:
    """OpenAI takes a Bearer token; Azure OpenAI's GA endpoint takes ``api-key``."""
    if provider == "azure":
        return {"api-key": api_key}
    return {"Authorization": f"Bearer {api_key}"}


class OpenAIRealtimeEngine:
    name = NAME
    label = "Realtime"
    provider = "openai"
    # The deployment settings it connects with (its spec's; named in errors).
    setting_names = SettingNames(api_key="OPENAI_API_KEY", url="OPENAI_REALTIME_URL")

    def __init__(
        self, settings: EngineSettings, connect: ConnectFn | None = None
    ) -> None:
        self.settings = settings
        self._connect = connect or connector(settings.ws_client)

    def protocol(self, persona: Persona) -> RealtimeProtocol:
        return RealtimeProtocol(persona)

    def target(self, persona: Persona) -> ConnectTarget:
        if not self.settings.api_key:
            raise ValueError(f"{self.setting_names.api_key} is not set")
        if not self.settings.url:
            raise ValueError(f"{self.setting_names.url} is not set")
        return ConnectTarget(
            build_url(self.settings.url, persona.model),
            auth_headers(self.provider, self.settings.api_key),
        )

    @property
    def connect(self) -> ConnectFn:
        return self._connect


class AzureRealtimeEngine(OpenAIRealtimeEngine):
    """Azure OpenAI's GA Realtime endpoint: the same protocol, its own URL and key
    header (``api-key``); the persona's model is the deployment name."""

    name = AZURE_NAME
    provider = "azure"
    # Deprecated set-up: REALTIME_PROVIDER=azure put Azure's key and URL in the
    # OPENAI_* settings; they still apply while Azure's own are unset.
    setting_names = SettingNames(
        api_key="AZURE_OPENAI_API_KEY",
        url="AZURE_OPENAI_REALTIME_URL",
        legacy=LegacySettings(
            when_setting="REALTIME_PROVIDER",
            equals="azure",
            api_key="OPENAI_API_KEY",
            url="OPENAI_REALTIME_URL",
        ),
    )
