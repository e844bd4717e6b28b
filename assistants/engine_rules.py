"""An assistant's settings checked against its engine's spec (no Django).

Two strengths: ``engine_problems`` refuses what the engine cannot run (a voice it
does not have, another engine's model, a missing backend model); the warnings
only say a model name is not one the engine knows, since models come and go
faster than releases ("Check this assistant" asks the server). Engines whose
models are deployment names (Azure) are not warned about.
"""

from __future__ import annotations

from calls.engines import registry
from calls.vocabulary.persona import Persona


def engine_problems(
    engine: str, *, voice: str, model: str, backend_model: str
) -> dict[str, str]:
    """Settings the engine cannot run with, by field (empty if none; an unknown
    engine is the engine field's own choice error)."""
    spec = registry.find(engine)
    if spec is None:
        return {}
    errors: dict[str, str] = {}
    if voice not in spec.voices:
        errors["voice"] = f"{spec.label} has no voice {voice!r}; it takes " + ", ".join(
            spec.voices
        )
    other = next(
        (o for o in registry.specs() if o.family != spec.family and o.has_model(model)),
        None,
    )
    if other is not None and not spec.has_model(model):
        errors["model"] = (
            f"{model!r} is a {other.family} model; choose a {other.family} engine, "
            f"or a {spec.family} model (" + ", ".join(spec.models[:2]) + ")."
        )
    if spec.can.backend_model and not backend_model.strip():
        errors["backend_model"] = f"{spec.family} needs a backend model."
    return errors


def model_warnings(engine: str, model: str, transcription_model: str = "") -> list[str]:
    """Sentences about model names ``engine`` does not know (empty: all known,
    or the engine's names are not ours to check)."""
    spec = registry.find(engine)
    if spec is None or spec.can.model_is_deployment:
        return []
    out = []
    if model and model not in spec.models:
        out.append(
            f'model "{model}" is not one {engine} knows ({", ".join(spec.models)}); '
            'the server may refuse it. Use "Check this assistant" to find out.'
        )
    known = spec.transcription_models
    takes_setting = spec.can.caller_transcription == "setting"
    if takes_setting and transcription_model and transcription_model not in known:
        out.append(
            f'transcription model "{transcription_model}" is not one {engine} '
            f"knows ({', '.join(known)}); the server may refuse "
            "the session update, which ends every call at once."
        )
    return out


def persona_warnings(persona: Persona) -> list[str]:
    return model_warnings(persona.engine, persona.model, persona.transcription_model)
