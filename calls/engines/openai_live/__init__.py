"""OpenAI GPT-Live (``/v1/live/sessions``): the second engine. No Django.

``events`` builds what we send (``session.start`` from a ``Persona``); ``parser``
reads what we receive into ``server_events``; ``turns`` infers the call state's
items from GPT-Live's continuous audio and timed transcript deltas; ``protocol``
is the ``EngineProtocol``; ``engine`` says where to connect and wraps the
Realtime package's WebSocket clients (same transport: JSON text frames);
``spec`` declares the engine to the registry.
"""

from __future__ import annotations

from calls.engines.openai_live.engine import (
    DEFAULT_URL,
    NAME,
    LiveConnection,
    OpenAILiveEngine,
)
from calls.engines.openai_live.protocol import LiveProtocol
from calls.engines.openai_live.spec import SPEC
from calls.engines.openai_live.turns import LiveTurns, is_silence

__all__ = [
    "DEFAULT_URL",
    "NAME",
    "SPEC",
    "LiveConnection",
    "LiveProtocol",
    "LiveTurns",
    "OpenAILiveEngine",
    "is_silence",
]
