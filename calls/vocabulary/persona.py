"""The persona a call runs with: one frozen, typed value, and one place for defaults.

``Assistant`` (the admin-managed model) is where staff edit a persona; ``Persona`` is
what a call gets: frozen onto the ``Call`` as its snapshot when the call is routed
(``to_snapshot``), read back by the call runner, the engine and the pages
(``from_snapshot``). The model's field defaults come from ``DEFAULTS`` here, so a
default is written once.

The snapshot carries ``schema`` (``SCHEMA_VERSION``). Version 1 is the first typed
one; rows written before it have no ``schema`` key and the same field names, and
read back the same way. Reading never fails: an unknown key is ignored, a missing
or ill-typed value takes the default (a call log must open whatever is stored).

What depends on the engine (which voices and models it takes, whether it always
transcribes the caller) is the engine's spec (``calls.engines.spec``), not the
persona's: the persona only names its engine.

Standard library only, so the engines and the call state can import it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

from calls.vocabulary.tools import NO_TOOLS, Tools

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# The defaults a snapshot without these keys reads back with (rows written before
# assistants chose an engine ran on OpenAI's Realtime API); the engine names are
# the registry's (``calls.engines.registry``).
DEFAULT_ENGINE = "openai-realtime"
DEFAULT_MODEL = "gpt-realtime-2.1"
# The backend (Responses) model of an engine that delegates tools to one.
DEFAULT_BACKEND_MODEL = "gpt-5.6-luna"


@dataclass(frozen=True, slots=True)
class Persona:
    """Everything a call needs to know about the assistant that answers it."""

    assistant_id: int | None = None
    name: str = ""
    instructions: str = ""
    greeting: str = ""
    # Which engine package runs the call (``calls.engines.registry``).
    engine: str = DEFAULT_ENGINE
    voice: str = "marin"
    model: str = DEFAULT_MODEL
    # Stored for engines that take it; OpenAI's GA Realtime API does not.
    temperature: float = 0.8
    turn_detection: str = "server_vad"
    vad_threshold: float = 0.5
    vad_prefix_padding_ms: int = 300
    vad_silence_duration_ms: int = 500
    vad_eagerness: str = "auto"
    transcription_model: str = "gpt-4o-mini-transcribe"
    transcription_language: str = ""
    max_call_duration_seconds: int = 1800
    # Engines with a backend (GPT-Live): the Responses model the voice model
    # delegates to, and its prompt (tool and workflow rules; ``instructions`` is
    # the voice's).
    backend_model: str = DEFAULT_BACKEND_MODEL
    backend_instructions: str = ""
    # What the model can do besides talk (``calls.vocabulary.tools``), snapshotted in
    # the assistants JSON's "tools" shape.
    tools: Tools = NO_TOOLS
    # Keep a two-channel recording of the call; personal data to redact from
    # transcripts as they are written (redaction detector names).
    recording_enabled: bool = False
    redact: tuple[str, ...] = ()

    def to_snapshot(self) -> dict[str, Any]:
        """JSON-ready data for ``Call.assistant_snapshot``."""
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("tools", "redact")
        }
        return {
            "schema": SCHEMA_VERSION,
            **data,
            "tools": self.tools.to_snapshot(),
            "redact": list(self.redact),
        }

    @classmethod
    def from_snapshot(cls, data: Any) -> Persona:
        """Read a stored snapshot back; tolerant of old and damaged rows."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        values["tools"] = Tools.from_data(data.get("tools"))
        redact = data.get("redact")
        if isinstance(redact, list):
            values["redact"] = tuple(r for r in redact if isinstance(r, str))
        for field in fields(cls):
            if field.name not in data or field.name in ("tools", "redact"):
                continue
            value = _coerce(data[field.name], getattr(DEFAULTS, field.name))
            if value is _INVALID:
                logger.warning(
                    "persona snapshot: ignoring ill-typed %s (%s)",
                    field.name,
                    type(data[field.name]).__name__,
                )
                continue
            values[field.name] = value
        return cls(**values)

    @classmethod
    def from_attributes(cls, source: Any) -> Persona:
        """From any object with the persona's attribute names (an ``Assistant``)."""
        values = {
            f.name: getattr(source, f.name)
            for f in fields(cls)
            if hasattr(source, f.name) and f.name not in ("assistant_id", "tools")
        }
        if "redact" in values:
            values["redact"] = tuple(values["redact"] or ())
        return cls(assistant_id=getattr(source, "pk", None), **values)


_INVALID = object()


def _coerce(value: Any, default: Any) -> Any:
    """``value`` if it has the default's type (ints pass as floats), else _INVALID."""
    if default is None:  # assistant_id
        return value if value is None or type(value) is int else _INVALID
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _INVALID
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _INVALID
    if isinstance(default, int):
        return value if type(value) is int else _INVALID
    return value if isinstance(value, str) else _INVALID


DEFAULTS = Persona()
