"""``OpenAILiveEngine``: where and how to open a GPT-Live leg. No Django.

GPT-Live takes no query string (the model goes in ``session.start``) and a Bearer
token; its frames are JSON text like the Realtime API's, so the same WebSocket
clients open it (``openai_realtime.connector``). The connection is wrapped so that
closing the leg first sends ``session.close`` (the server then finalises the
session and its usage instead of seeing a dropped socket).

The wire format is OpenAI's GPT-Live WebSocket API (``session.start``,
``session.close``); the ``openai`` SDK's ``openai.types.live`` models it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

from calls.engines.base import (
    ConnectFn,
    ConnectTarget,
    EngineConnection,
    EngineSettings,
)
from calls.engines.openai_live import events
from calls.engines.openai_live.protocol import LiveProtocol
from calls.engines.openai_realtime.connector import connector
from calls.engines.spec import SettingNames
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

NAME = "openai-live"
DEFAULT_URL = "wss://api.openai.com/v1/live/sessions"


class LiveConnection:
    """An engine connection that says ``session.close`` before it closes."""

    def __init__(self, inner: EngineConnection) -> None:
        self.inner = inner
        self.close_sent = False

    async def send(self, text: str) -> None:
        await self.inner.send(text)

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self.inner.__aiter__()

    async def close(self) -> None:
        if not self.close_sent:
            self.close_sent = True
            try:
                await self.inner.send(events.session_close())
            except Exception as exc:  # already closed: nothing to finalise
                logger.debug("GPT-Live session.close not sent: %r", exc)
        await self.inner.close()

    @property
    def close_code(self) -> int | None:
        return self.inner.close_code

    @property
    def close_reason(self) -> str:
        return self.inner.close_reason


class OpenAILiveEngine:
    name = NAME
    label = "GPT-Live"
    # The deployment settings it connects with (its spec's; named in errors).
    setting_names = SettingNames(api_key="OPENAI_API_KEY", url="OPENAI_LIVE_URL")

    def __init__(
        self, settings: EngineSettings, connect: ConnectFn | None = None
    ) -> None:
        self.settings = settings
        self._inner = connect or connector(settings.ws_client)

    def protocol(self, persona: Persona) -> LiveProtocol:
        return LiveProtocol(persona)

    def target(self, persona: Persona) -> ConnectTarget:
        if not self.settings.api_key:
            raise ValueError(f"{self.setting_names.api_key} is not set")
        return ConnectTarget(
            self.settings.url or DEFAULT_URL,
            {"Authorization": f"Bearer {self.settings.api_key}"},
        )

    @property
    def connect(self) -> ConnectFn:
        return self._connect

    async def _connect(
        self, url: str, *, headers: Mapping[str, str], open_timeout: float
    ) -> EngineConnection:
        inner = await self._inner(url, headers=headers, open_timeout=open_timeout)
        return LiveConnection(inner)
