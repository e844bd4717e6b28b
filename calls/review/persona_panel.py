"""The call page's "Persona used on this call": a readable summary, not a dump.

Built from the call's persona snapshot (through ``Persona``, so old rows read like
new ones) and the engine's spec: only the settings that apply to the call's engine
are listed, with their labels; the tools as sentences. A webhook tool's URL (which
may hold a token) is shown only to those who may edit assistants, and transfer
numbers by the call's ``transfer_numbers`` rule (redacted on a call that redacts
phone numbers, else in full only to those who see numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calls.engines import registry
from calls.engines.spec import EngineSpec
from calls.review.transfer_numbers import NumberRule
from calls.vocabulary.persona import Persona
from calls.vocabulary.tools import Tools

LABELS = {
    "voice": "Voice",
    "model": "Voice model",
    "temperature": "Temperature",
    "turn_detection": "Turn detection",
    "vad_threshold": "Speech threshold",
    "vad_prefix_padding_ms": "Audio kept before speech (ms)",
    "vad_silence_duration_ms": "Silence that ends a turn (ms)",
    "vad_eagerness": "Eagerness",
    "transcription_model": "Caller transcription",
    "transcription_language": "Callers' language",
    "max_call_duration_seconds": "Longest call (s)",
    "backend_model": "Backend model",
    "recording_enabled": "Recorded",
    "redact": "Redacted from transcripts",
}
# Settings that only mean something with our VAD settings, by turn detection.
SERVER_VAD = ("vad_threshold", "vad_prefix_padding_ms", "vad_silence_duration_ms")
SEMANTIC_VAD = ("vad_eagerness",)


@dataclass(frozen=True, slots=True)
class Setting:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PersonaPanel:
    summary: str  # "gpt-realtime, voice marin"
    engine: str
    settings: tuple[Setting, ...]
    tools: tuple[str, ...]
    instructions: str
    greeting: str


def persona_panel(
    snapshot: Any, *, show_urls: bool, show_numbers: bool
) -> PersonaPanel | None:
    """The panel for a call's snapshot; None when nothing was recorded."""
    if not snapshot:
        return None
    persona = Persona.from_snapshot(snapshot)
    spec = registry.find(persona.engine)
    return PersonaPanel(
        summary=f"{persona.model or 'model unknown'}, "
        f"voice {persona.voice or 'unknown'}",
        engine=spec.label if spec else persona.engine,
        settings=tuple(_settings(persona, spec)),
        tools=tuple(
            _tools(
                persona.tools,
                show_urls=show_urls,
                numbers=NumberRule(
                    show=show_numbers, redact="phone_number" in persona.redact
                ),
            )
        ),
        instructions=persona.instructions,
        greeting=persona.greeting,
    )


def _applies(name: str, persona: Persona, spec: EngineSpec | None) -> bool:
    can = spec.can if spec else None
    if name == "backend_model":
        return bool(can and can.backend_model)
    if name in ("turn_detection", *SERVER_VAD, *SEMANTIC_VAD):
        if can is not None and not can.vad_settings:
            return False
        if name in SERVER_VAD:
            return persona.turn_detection == "server_vad"
        if name in SEMANTIC_VAD:
            return persona.turn_detection == "semantic_vad"
    if name in ("transcription_model", "transcription_language"):
        return can is None or can.caller_transcription == "setting"
    return True


def _settings(persona: Persona, spec: EngineSpec | None) -> list[Setting]:
    rows = []
    for name, label in LABELS.items():
        if not _applies(name, persona, spec):
            continue
        rows.append(Setting(label, _shown(name, getattr(persona, name))))
    return rows


def _shown(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "redact":
        return ", ".join(kind.replace("_", " ") for kind in value) or "nothing"
    if name == "turn_detection":
        return {"server_vad": "by silence", "semantic_vad": "by meaning"}.get(
            value, str(value).replace("_", " ")
        )
    if value in ("", None):
        return "—"
    return str(value)


def _tools(tools: Tools, *, show_urls: bool, numbers: NumberRule) -> list[str]:
    lines = []
    if tools.end_call.enabled:
        goodbye = (
            f' (goodbye: "{tools.end_call.goodbye}")' if tools.end_call.goodbye else ""
        )
        lines.append(f"Ends the call when it is done{goodbye}")
    for target in tools.transfer:
        number = numbers.number(target.number)
        lines.append(f"Transfers to {target.name} ({number})")
    for handoff in tools.handoff:
        lines.append(f"Hands off to the assistant {handoff.assistant}")
    for digit, action in tools.keypad:
        does = f"transfers to {action.transfer}" if action.transfer else "ends the call"
        lines.append(f"Key {digit} {does}")
    silence = tools.silence
    if silence.reprompt_after_seconds:
        lines.append(
            f"Prompts the caller after {silence.reprompt_after_seconds} s of silence"
        )
    if silence.hang_up_after_seconds:
        lines.append(f"Hangs up after {silence.hang_up_after_seconds} s of silence")
    for webhook in tools.webhooks:
        where = f" at {webhook.url}" if show_urls else ""
        lines.append(
            f"Calls {webhook.name}{where} (answer within {webhook.timeout_seconds} s)"
        )
    return lines
