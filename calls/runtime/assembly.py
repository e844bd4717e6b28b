"""Building a call's runner from Django settings: the one place that reads them.

The engine, call state and runner take plain values; this module turns the
deployment's settings and the call's persona into those values.
"""

from __future__ import annotations

from django.conf import settings

from assistants.persona import Persona
from calls.callstate import CallState
from calls.engines import registry
from calls.engines.base import ConnectFn, Engine, EngineSettings
from calls.runtime.recorder import CallRecorder
from calls.runtime.runner import CallRunner, TwilioSide


def engine_settings() -> EngineSettings:
    return EngineSettings(
        api_key=settings.OPENAI_API_KEY,
        url=settings.OPENAI_REALTIME_URL,
        provider=settings.REALTIME_PROVIDER,
        ws_client=settings.REALTIME_WS_CLIENT,
        connect_timeout=settings.REALTIME_CONNECT_TIMEOUT,
    )


def build_engine(persona: Persona, connect: ConnectFn | None = None) -> Engine:
    """The persona's engine (``registry.UnknownEngine`` if it names none)."""
    return registry.build(persona.engine, engine_settings(), connect)


def build_runner(
    *,
    call_sid: str,
    persona: Persona,
    twilio: TwilioSide,
    connect: ConnectFn | None = None,
    mark_interval_ms: int | None = None,
) -> CallRunner:
    engine = build_engine(persona, connect)
    if mark_interval_ms is None:
        mark_interval_ms = settings.MEDIA_MARK_INTERVAL_MS
    state = CallState(
        call_sid=call_sid,
        persona=persona,
        protocol=engine.protocol(persona),
        engine_label=engine.label,
        mark_interval_ms=mark_interval_ms,
        connect_on_upgrade=settings.REALTIME_CONNECT_ON_UPGRADE,
    )
    return CallRunner(
        state=state,
        engine=engine,
        twilio=twilio,
        recorder=CallRecorder(call_sid),
        connect_timeout=settings.REALTIME_CONNECT_TIMEOUT,
    )
