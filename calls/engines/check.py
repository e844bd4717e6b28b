"""Check an assistant against its engine without placing a call.

Opens a session with the persona's settings, sends the configuration a call would
send, waits a few seconds for the engine's confirmation or refusal, closes, and
says what happened. The admin's "Check this assistant" action runs it (through
``calls.runtime.check``, which builds the engine from the deployment's settings).
No Django.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from calls.engines import base
from calls.engines.failures import connect_failure
from calls.engines.spec import Capabilities
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5.0
# What an engine takes when the caller does not say: the spec's defaults.
DEFAULT_CAPABILITIES = Capabilities()


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    # One sentence: what the engine said.
    summary: str
    # What was sent and accepted (or refused), for the admin message.
    details: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def settings_sent(
    persona: Persona, can: Capabilities = DEFAULT_CAPABILITIES
) -> tuple[str, ...]:
    """The persona's settings a session is configured with, as staff name them
    (``can``: what the engine takes, from its spec)."""
    lines = [f"model {persona.model}", f"voice {persona.voice or '(default)'}"]
    if can.backend_model:
        lines.append(f"backend model {persona.backend_model}")
    if can.caller_transcription == "always":
        lines.append("caller transcribed by the engine")
    elif persona.transcription_model:
        language = persona.transcription_language or "auto"
        lines.append(
            f"transcription {persona.transcription_model} (language {language})"
        )
    else:
        lines.append("no caller transcription")
    if not can.vad_settings:
        lines.append("turns decided by the model")
    elif persona.turn_detection == "semantic_vad":
        lines.append(f"semantic VAD, eagerness {persona.vad_eagerness or 'auto'}")
    else:
        lines.append(
            f"server VAD, threshold {persona.vad_threshold:g}, "
            f"silence {persona.vad_silence_duration_ms} ms"
        )
    return tuple(lines)


async def check_session(
    engine: base.Engine,
    persona: Persona,
    *,
    within: float = CHECK_TIMEOUT_SECONDS,
    warnings: tuple[str, ...] = (),
    can: Capabilities = DEFAULT_CAPABILITIES,
) -> CheckResult:
    """Configure one session as a call would; never raises (the result says).
    ``warnings``: what the caller knows is doubtful (unknown model names);
    ``can``: what the engine takes (its spec's), for the settings reported."""
    sent = settings_sent(persona, can)

    def result(ok: bool, summary: str) -> CheckResult:
        return CheckResult(ok, summary, sent, warnings)

    try:
        target = engine.target(persona)
    except ValueError as exc:
        return result(False, f"{engine.label} cannot be reached: {exc}")
    try:
        async with asyncio.timeout(within):
            leg = await engine.connect(
                target.url, headers=target.headers, open_timeout=within
            )
    except Exception as exc:  # any failure to open is the answer
        return result(False, connect_failure(exc, label=engine.label, within=within))
    try:
        return result(*await _configure(engine, persona, leg, within))
    finally:
        try:
            await leg.close()
        except Exception as exc:  # closing is best effort
            logger.debug("check of %s: close failed: %r", persona.name, exc)


async def _configure(
    engine: base.Engine,
    persona: Persona,
    leg: base.EngineConnection,
    within: float,
) -> tuple[bool, str]:
    protocol = engine.protocol(persona)
    label = engine.label
    try:
        async with asyncio.timeout(within):
            for text in protocol.configure():
                await leg.send(text)
            async for message in leg:
                try:
                    event = protocol.parse(message)
                except base.EngineEventError:
                    continue
                verdict = _verdict(label, event)
                if verdict is not None:
                    return verdict
    except TimeoutError:
        return False, f"{label} did not confirm the configuration within {within:g} s."
    except Exception as exc:  # the leg broke while we waited
        return False, f"{label} connection failed: {exc}"
    code = leg.close_code
    reason = f": {leg.close_reason}" if leg.close_reason else ""
    return False, f"{label} closed the session (code {code}{reason}) unconfigured."


def _verdict(label: str, event: base.EngineEvent) -> tuple[bool, str] | None:
    """(ok, summary) once ``event`` settles the check; None to keep waiting."""
    if isinstance(event, base.EngineEvents):
        for inner in event.events:
            verdict = _verdict(label, inner)
            if verdict is not None:
                return verdict
        return None
    if isinstance(event, base.SessionConfigured):
        if event.mismatch:
            return True, f"{label} accepted the configuration, but {event.mismatch}"
        return True, f"{label} accepted the configuration."
    if isinstance(event, base.EngineError) and event.kind != "benign":
        what = event.context or "the configuration"
        param = f" (parameter {event.param})" if event.param else ""
        return False, f"{label} rejected {what}{param}: {event.text}"
    return None
