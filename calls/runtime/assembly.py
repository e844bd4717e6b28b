"""Building a call's runner from Django settings: the one place that reads them.

The engine, call state and runner take plain values; this module turns the
deployment's settings and the call's persona into those values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async as db
from django.conf import settings

from assistants.models import Assistant, WebhookTool
from calls.callstate import CallState
from calls.callstate.actions import RunTool, ToolResult
from calls.callstate.continuation import Continuation
from calls.callstate.greeting_cache import GreetingCache, GreetingKey
from calls.callstate.greeting_replay import GreetingReplay
from calls.conf import app_settings
from calls.engines import registry
from calls.engines.base import ConnectFn, Engine, EngineProtocol, EngineSettings
from calls.models import Call
from calls.runtime.call_audio import CallAudio
from calls.runtime.log_writer import CallLogWriter
from calls.runtime.recording import CallRecording
from calls.runtime.runner import CallRunner, PersonaFn, ToolFn, TwilioSide, no_tools
from calls.vocabulary.persona import DEFAULT_ENGINE, Persona

logger = logging.getLogger(__name__)


def engine_settings(engine: str = DEFAULT_ENGINE) -> EngineSettings:
    """What the engine called ``engine`` connects with: the settings its spec
    names, so assistants on different engines run in one deployment
    (``registry.UnknownEngine`` if no engine has that name)."""
    spec = registry.spec(engine)
    names = spec.settings
    api_key = str(getattr(settings, names.api_key, "") or "")
    url = str(getattr(settings, names.url, "") or "")
    legacy = names.legacy
    if legacy and getattr(settings, legacy.when_setting, None) == legacy.equals:
        api_key = api_key or str(getattr(settings, legacy.api_key, "") or "")
        url = url or str(getattr(settings, legacy.url, "") or "")
    return EngineSettings(
        api_key=api_key,
        url=url,
        ws_client=app_settings().engine_ws_client,
        connect_timeout=app_settings().engine_connect_timeout,
    )


def build_engine(persona: Persona, connect: ConnectFn | None = None) -> Engine:
    """The persona's engine (``registry.UnknownEngine`` if it names none)."""
    return registry.build(persona.engine, engine_settings(persona.engine), connect)


# One per server process: each captures its own greetings on its first calls.
GREETINGS = GreetingCache()


def build_greeting_replay(
    persona: Persona, protocol: EngineProtocol
) -> GreetingReplay | None:
    """The call's view of the greeting cache (None: off, or no greeting)."""
    if not app_settings().greeting_cache or not persona.greeting:
        return None
    key = GreetingKey(persona.greeting, persona.voice, persona.model, persona.engine)
    said = protocol.said(persona.greeting)
    return GreetingReplay(GREETINGS, str(persona.assistant_id), key, said)


def build_runner(
    *,
    call_sid: str,
    persona: Persona,
    twilio: TwilioSide,
    connect: ConnectFn | None = None,
    mark_interval_ms: int | None = None,
    continuation: Continuation | None = None,
) -> CallRunner:
    engine = build_engine(persona, connect)
    if mark_interval_ms is None:
        mark_interval_ms = app_settings().media_mark_interval_ms
    protocol = engine.protocol(persona)
    recording = build_recording(
        call_sid, persona, continuation.offset_ms if continuation else 0
    )
    # The state's one audio observer: the recording, and any listen-in later.
    audio = CallAudio(recording)
    state = CallState(
        call_sid=call_sid,
        persona=persona,
        protocol=protocol,
        engine_label=engine.label,
        mark_interval_ms=mark_interval_ms,
        connect_on_upgrade=app_settings().engine_connect_on_upgrade,
        continuation=continuation,
        greeting_replay=(
            None if continuation else build_greeting_replay(persona, protocol)
        ),
        audio=audio,
        tool_filler_after_ms=app_settings().tool_filler_after_ms,
    )
    return CallRunner(
        state=state,
        engine=engine,
        twilio=twilio,
        tools=build_tools(call_sid, lambda: state.persona),
        personas=build_personas(),
        # Follows the call's assistant through handoffs.
        call_log=CallLogWriter(
            call_sid,
            redact=lambda: state.persona.redact,
            # Its end must not end the call once a later stream has it.
            stream=continuation.stream if continuation else 1,
        ),
        recording=recording,
        audio=audio,
        connect_timeout=app_settings().engine_connect_timeout,
    )


def build_recording(
    call_sid: str, persona: Persona, offset_ms: int = 0
) -> CallRecording | None:
    """The call's recording, if its assistant keeps them (spooled locally).
    ``offset_ms``: where a later stream of the same call starts on its timeline."""
    if not persona.recording_enabled:
        return None
    try:
        return CallRecording(
            call_sid,
            app_settings().recording_spool_dir,
            codec=app_settings().recording_codec,
            offset_ms=offset_ms,
            flush_seconds=app_settings().recording_flush_seconds,
        )
    except (OSError, ValueError):
        # A recording that cannot start must not cost the caller their call.
        logger.exception("call %s: recording not started", call_sid)
        return None


def build_personas() -> PersonaFn:
    """Loads a handoff target's persona (off the audio path); None if it is gone
    or switched off."""

    def load(assistant_id: int) -> Persona | None:
        assistant = Assistant.objects.filter(pk=assistant_id, is_active=True).first()
        return None if assistant is None else assistant.persona()

    return db(load)


def build_tools(call_sid: str, current: Callable[[], Persona]) -> ToolFn:
    """The call's webhook tools (built-ins never get here: the call state does
    them). ``current`` is the persona now answering, which a handoff changes.

    Secrets and the caller's number are loaded once per assistant, by the first
    call of its tools, off the audio path; they never leave this process.
    """
    built: dict[int | None, Any] = {}  # assistant id -> its WebhookTools

    async def run(call: RunTool) -> ToolResult | str:
        persona = current()
        if persona.tools.webhook(call.name) is None:
            return await no_tools(call)
        tools = built.get(persona.assistant_id)
        if tools is None:
            from assistants.destinations import webhook_destinations
            from calls.tools.runner import WebhookTools  # aiohttp: only if used

            secrets, caller = await db(_webhook_context)(call_sid, persona.assistant_id)
            tools = built[persona.assistant_id] = WebhookTools(
                persona.tools.webhooks,
                secrets,
                call_sid=call_sid,
                assistant=persona.name,
                caller_number=caller,
                destinations=webhook_destinations(),
            )
        return await tools(call)

    return run


def _webhook_context(
    call_sid: str, assistant_id: int | None
) -> tuple[dict[str, str], str]:
    """The assistant's webhook secrets by tool name, and the caller's number."""
    if assistant_id is None:
        return {}, ""
    secrets = dict(
        WebhookTool.objects.filter(assistant_id=assistant_id).values_list(
            "name", "secret"
        )
    )
    caller = (
        Call.objects.filter(call_sid=call_sid)
        .values_list("from_number", flat=True)
        .first()
    )
    return secrets, caller or ""
