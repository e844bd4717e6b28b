"""System checks for assistants' settings.

Callers must be told that a call is recorded; the pre-connect message (read out
before the assistant answers) is where this deployment says so
(``assistants.W001``). Every active assistant must run on an engine this release
has, with settings its engine takes (``assistants.W002``: an engine removed from
the registry, or a voice it no longer has, would fail every call). The checks
read the database, so like Django's own database checks they run only when asked
for a database: ``manage.py check --database default``, and before ``migrate``.
The admin says the same when such an assistant is saved.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from assistants.engine_rules import engine_problems
from calls.engines import registry

RECORDING_NOTICE_HINT = (
    "Say so in its pre-connect message, e.g. 'This call is recorded for quality "
    "and training.' (Admin: Persona > Pre connect message.)"
)


def recording_notice_problem(recording_enabled: bool, pre_connect_message: str) -> str:
    """Why an assistant's callers would not hear that they are recorded ("" if ok)."""
    if recording_enabled and not pre_connect_message.strip():
        return (
            "records calls but has no pre-connect message, so callers are not "
            "told that they are recorded."
        )
    return ""


@register(Tags.database)
def check_recording_notice(
    app_configs: Any, databases: Any = None, **kwargs: Any
) -> list[Warning]:
    from assistants.models import Assistant

    if not databases:
        return []
    try:
        recorded = list(
            Assistant.objects.filter(recording_enabled=True).values_list(
                "name", "pre_connect_message"
            )
        )
    except DatabaseError:
        return []  # not migrated yet (e.g. before the first migrate)
    except ImproperlyConfigured:
        return []  # no usable DATABASE_URL: voiceassistant.checks reports it
    return [
        Warning(
            f'Assistant "{name}" {problem}',
            hint=RECORDING_NOTICE_HINT,
            id="assistants.W001",
        )
        for name, message in recorded
        if (problem := recording_notice_problem(True, message))
    ]


ENGINE_HINT = (
    "Choose an engine and settings it takes on the assistant (Admin: Voice and "
    "model), or import the assistants file again."
)


@register(Tags.database)
def check_assistant_engines(
    app_configs: Any, databases: Any = None, **kwargs: Any
) -> list[Warning]:
    from assistants.models import Assistant, deployment_engine

    if not databases:
        return []
    try:
        rows = list(
            Assistant.objects.filter(is_active=True).values_list(
                "name", "engine", "voice", "model", "backend_model"
            )
        )
    except (DatabaseError, ImproperlyConfigured):
        # Not migrated yet, or no usable database (its own check says why).
        return []
    out = []
    for name, engine, voice, model, backend_model in rows:
        engine = engine or deployment_engine()
        if registry.find(engine) is None:
            problems = [
                f"names the engine {engine!r}, which this release does not have "
                f"(it has {', '.join(registry.names())})."
            ]
        else:
            found = engine_problems(
                engine, voice=voice, model=model, backend_model=backend_model
            )
            problems = [f"{field}: {problem}" for field, problem in found.items()]
        out += [
            Warning(
                f'Assistant "{name}" {problem}', hint=ENGINE_HINT, id="assistants.W002"
            )
            for problem in problems
        ]
    return out
