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

Pure module: no Django, so the engines and the call state can import it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

from assistants.tools import NO_TOOLS, Tools

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Engine names (``calls.engines.registry``); an assistant may pick one.
OPENAI_REALTIME = "openai-realtime"
AZURE_REALTIME = "azure-realtime"
OPENAI_LIVE = "openai-live"
DEFAULT_MODEL = "gpt-realtime-2.1"
# GPT-Live's backend (Responses) model: tools and business rules run there.
DEFAULT_BACKEND_MODEL = "gpt-5.6-luna"


@dataclass(frozen=True, slots=True)
class Persona:
    """Everything a call needs to know about the assistant that answers it."""

    assistant_id: int | None = None
    name: str = ""
    instructions: str = ""
    greeting: str = ""
    # Which engine package runs the call (``calls.engines.registry``).
    engine: str = OPENAI_REALTIME
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
    # GPT-Live only: the backend Responses model the voice model delegates to,
    # and its prompt (tool and workflow rules; ``instructions`` is the voice's).
    backend_model: str = DEFAULT_BACKEND_MODEL
    backend_instructions: str = ""
    # What the model can do besides talk (``assistants.tools``), snapshotted in
    # the assistants JSON's "tools" shape.
    tools: Tools = NO_TOOLS
    # Keep a two-channel recording of the call; personal data to redact from
    # transcripts as they are written (``calls.redaction`` detector names).
    recording_enabled: bool = False
    redact: tuple[str, ...] = ()

    @property
    def transcribes_caller(self) -> bool:
        # GPT-Live always transcribes both sides (it has no transcription setting).
        return bool(self.transcription_model) or self.engine == OPENAI_LIVE

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
