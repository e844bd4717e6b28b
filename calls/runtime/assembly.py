"""Building a call's runner from Django settings: the one place that reads them.

The engine, call state and runner take plain values; this module turns the
deployment's settings and the call's persona into those values.
"""

from __future__ import annotations

from django.conf import settings

from assistants.persona import AZURE_REALTIME, OPENAI_LIVE, OPENAI_REALTIME, Persona
from calls.callstate import CallState
from calls.engines import registry
from calls.engines.base import ConnectFn, Engine, EngineSettings
from calls.runtime.recorder import CallRecorder
from calls.runtime.runner import CallRunner, TwilioSide


def engine_settings(engine: str = OPENAI_REALTIME) -> EngineSettings:
    """What the engine called ``engine`` connects with: each has its own URL and
    key, so assistants on different engines run in one deployment."""
    api_key, url = settings.OPENAI_API_KEY, settings.OPENAI_REALTIME_URL
    provider = "openai"
    if engine == AZURE_REALTIME:
        provider = "azure"
        # Deprecated set-up: REALTIME_PROVIDER=azure put Azure's key and URL in
        # the OPENAI_* settings; they still apply when Azure's own are unset.
        legacy = settings.REALTIME_PROVIDER == "azure"
        api_key = settings.AZURE_OPENAI_API_KEY or (api_key if legacy else "")
        url = settings.AZURE_OPENAI_REALTIME_URL or (url if legacy else "")
    elif engine == OPENAI_LIVE:
        url = settings.OPENAI_LIVE_URL
    return EngineSettings(
        api_key=api_key,
        url=url,
        provider=provider,
        ws_client=settings.REALTIME_WS_CLIENT,
        connect_timeout=settings.REALTIME_CONNECT_TIMEOUT,
    )


def build_engine(persona: Persona, connect: ConnectFn | None = None) -> Engine:
    """The persona's engine (``registry.UnknownEngine`` if it names none)."""
    return registry.build(persona.engine, engine_settings(persona.engine), connect)


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
