"""``check_assistant``: the admin's "Check this assistant", on the deployment's engine.

Builds the persona's engine from Django's settings (the real server, or the
Realtime simulator when ``OPENAI_REALTIME_URL`` points at it) and runs
``calls.engines.check.check_session``. Synchronous, for the admin action.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync

from assistants.engine_rules import persona_warnings
from calls.engines import registry
from calls.engines.base import ConnectFn
from calls.engines.check import CHECK_TIMEOUT_SECONDS, CheckResult, check_session
from calls.engines.registry import UnknownEngine
from calls.runtime.assembly import build_engine
from calls.vocabulary.persona import Persona


def check_assistant(
    persona: Persona,
    *,
    within: float = CHECK_TIMEOUT_SECONDS,
    connect: ConnectFn | None = None,
) -> CheckResult:
    try:
        engine = build_engine(persona, connect)
    except UnknownEngine as exc:
        return CheckResult(False, str(exc))
    run = async_to_sync(check_session)
    return run(
        engine,
        persona,
        within=within,
        warnings=tuple(persona_warnings(persona)),
        can=registry.spec(persona.engine).can,
    )
