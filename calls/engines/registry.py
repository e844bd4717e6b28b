"""The engines a persona can name: their specs, and how one is built. No Django.

Adding an engine: a package beside ``openai_realtime`` that declares an
``EngineSpec`` (``calls.engines.spec``), and one line in ``SPECS``. The admin,
the assistants' checks, pricing and the runner's settings read the spec from
here; nothing else names the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from calls.engines import openai_live, openai_realtime
from calls.engines.base import ConnectFn, Engine, EngineSettings
from calls.engines.spec import EngineSpec
from calls.vocabulary.persona import DEFAULT_ENGINE

SPECS: tuple[EngineSpec, ...] = (
    openai_realtime.SPEC,
    openai_realtime.AZURE_SPEC,
    openai_live.SPEC,
)


class UnknownEngine(ValueError):
    pass


def specs() -> tuple[EngineSpec, ...]:
    """Every registered engine, in the order the admin offers them."""
    return SPECS


def names() -> tuple[str, ...]:
    return tuple(spec.name for spec in specs())


def find(name: str) -> EngineSpec | None:
    return next((spec for spec in specs() if spec.name == name), None)


def spec(name: str) -> EngineSpec:
    """The engine called ``name`` (``UnknownEngine`` if none is)."""
    found = find(name)
    if found is None:
        raise UnknownEngine(f"no engine named {name!r}; known: {sorted(names())}")
    return found


def label(name: str) -> str:
    """What staff read for the engine ``name`` (the name itself if unknown)."""
    found = find(name)
    return found.label if found else name


def choices() -> list[tuple[str, str]]:
    """(name, label) of every engine, for a choice field."""
    return [(spec.name, spec.label) for spec in specs()]


def voices() -> tuple[str, ...]:
    """Every engine's voices, each once, in the order the engines list them."""
    return _union(spec.voices for spec in specs())


def voice_choices() -> list[tuple[str, str]]:
    """(voice, label) of every engine's voices, for a choice field."""
    return [(voice, voice.capitalize()) for voice in voices()]


def models() -> tuple[str, ...]:
    return _union(spec.models for spec in specs())


def transcription_models() -> tuple[str, ...]:
    return _union(spec.transcription_models for spec in specs())


def backend_models() -> tuple[str, ...]:
    return _union(spec.backend_models for spec in specs())


def deployment_default(settings: object) -> str:
    """The engine for assistants that name none: one whose deprecated settings
    the deployment still selects (``REALTIME_PROVIDER=azure``), else the persona's
    default engine."""
    for candidate in specs():
        legacy = candidate.settings.legacy
        if legacy and getattr(settings, legacy.when_setting, None) == legacy.equals:
            return candidate.name
    return DEFAULT_ENGINE


def build(
    name: str, settings: EngineSettings, connect: ConnectFn | None = None
) -> Engine:
    """The engine called ``name``; ``connect`` replaces its client (tests, bench)."""
    return spec(name).factory(settings, connect)


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)
