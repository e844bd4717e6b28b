"""The engines a persona can name, and how one is built. No Django.

Adding an engine: a package beside ``openai_realtime`` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from assistants.persona import AZURE_REALTIME, OPENAI_LIVE, OPENAI_REALTIME
from calls.engines.base import ConnectFn, Engine, EngineSettings
from calls.engines.openai_live import OpenAILiveEngine
from calls.engines.openai_realtime import AzureRealtimeEngine, OpenAIRealtimeEngine

EngineFactory = Callable[[EngineSettings, ConnectFn | None], Engine]

ENGINES: dict[str, EngineFactory] = {
    OPENAI_REALTIME: OpenAIRealtimeEngine,
    AZURE_REALTIME: AzureRealtimeEngine,
    OPENAI_LIVE: OpenAILiveEngine,
}


class UnknownEngine(ValueError):
    pass


def build(
    name: str, settings: EngineSettings, connect: ConnectFn | None = None
) -> Engine:
    """The engine called ``name``; ``connect`` replaces its client (tests, bench)."""
    factory = ENGINES.get(name)
    if factory is None:
        raise UnknownEngine(f"no engine named {name!r}; known: {sorted(ENGINES)}")
    return factory(settings, connect)
