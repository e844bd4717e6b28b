"""The model names each engine knows, for a warning before a call (not a refusal).

Models come and go faster than releases, so an unknown name is allowed: the
admin and ``assistants import`` only warn, and "Check this assistant" asks the
server. Azure takes deployment names, which are the customer's own, so it is not
checked. Pure: no Django.
"""

from __future__ import annotations

from assistants.persona import OPENAI_REALTIME, Persona

# OpenAI's GA Realtime models and the transcription models its sessions accept.
OPENAI_REALTIME_MODELS = (
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-mini",
)
OPENAI_TRANSCRIPTION_MODELS = (
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe",
    "gpt-transcribe",
    "whisper-1",
)

# engine name -> (speech models, transcription models)
KNOWN_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    OPENAI_REALTIME: (OPENAI_REALTIME_MODELS, OPENAI_TRANSCRIPTION_MODELS),
}


def model_warnings(engine: str, model: str, transcription_model: str = "") -> list[str]:
    """Sentences about model names ``engine`` does not know (empty: all known,
    or the engine's names are not ours to check)."""
    known = KNOWN_MODELS.get(engine)
    if known is None:
        return []
    models, transcription_models = known
    out = []
    if model and model not in models:
        out.append(
            f'model "{model}" is not one {engine} knows ({", ".join(models)}); '
            'the server may refuse it. Use "Check this assistant" to find out.'
        )
    if transcription_model and transcription_model not in transcription_models:
        out.append(
            f'transcription model "{transcription_model}" is not one {engine} '
            f"knows ({', '.join(transcription_models)}); the server may refuse "
            "the session update, which ends every call at once."
        )
    return out


def persona_warnings(persona: Persona) -> list[str]:
    return model_warnings(persona.engine, persona.model, persona.transcription_model)
