"""Data migrations, run forwards and backwards on real rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from assistants.persona import SCHEMA_VERSION, Persona

pytestmark = pytest.mark.django_db(transaction=True)

OLD_SNAPSHOT = {"name": "Front desk", "voice": "cedar", "model": "gpt-realtime-2"}


def migrate(target: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_it_gives_old_persona_snapshots_the_schema_version() -> None:
    apps = migrate([("calls", "0002_call_control")])
    Call = apps.get_model("calls", "Call")
    old = Call.objects.create(call_sid="CA" + "1" * 32, assistant_snapshot=OLD_SNAPSHOT)
    empty = Call.objects.create(call_sid="CA" + "2" * 32, assistant_snapshot={})

    apps = migrate([("calls", "0003_persona_snapshot_schema")])
    Call = apps.get_model("calls", "Call")
    snapshot = Call.objects.get(pk=old.pk).assistant_snapshot
    assert snapshot == {**OLD_SNAPSHOT, "engine": "openai-realtime", "schema": 1}
    assert Call.objects.get(pk=empty.pk).assistant_snapshot == {}
    persona = Persona.from_snapshot(snapshot)
    assert (persona.voice, persona.model, persona.engine) == (
        "cedar",
        "gpt-realtime-2",
        "openai-realtime",
    )

    apps = migrate([("calls", "0002_call_control")])
    Call = apps.get_model("calls", "Call")
    assert "schema" not in Call.objects.get(pk=old.pk).assistant_snapshot
    migrate([("calls", "0003_persona_snapshot_schema")])


def test_it_reads_any_stored_snapshot_without_failing() -> None:
    assert Persona.from_snapshot(None) == Persona()
    damaged = Persona.from_snapshot(
        {"voice": 3, "vad_threshold": 1, "max_call_duration_seconds": "long", "x": 1}
    )
    assert (damaged.voice, damaged.vad_threshold) == ("marin", 1.0)
    assert damaged.max_call_duration_seconds == 1800
    new = Persona(name="A", greeting="Hi").to_snapshot()
    assert new["schema"] == SCHEMA_VERSION
    assert Persona.from_snapshot(new) == Persona(name="A", greeting="Hi")
