"""Data migrations, run forwards and backwards on real rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from calls.privacy.forget import number_hash
from calls.vocabulary.persona import SCHEMA_VERSION, Persona

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
    migrate(latest())


def latest() -> list[tuple[str, str]]:
    """Every app's newest migration: where the tests after these expect to be."""
    executor = MigrationExecutor(connection)
    leaves: list[tuple[str, str]] = executor.loader.graph.leaf_nodes()
    return leaves


def test_it_gives_existing_calls_their_outcome() -> None:
    apps = migrate([("calls", "0004_call_outcome_and_permissions")])
    Call = apps.get_model("calls", "Call")
    rows = {
        "dropped": {"end_reason": "realtime_disconnected", "status": "completed"},
        "good": {"end_reason": "caller_hung_up", "status": "completed"},
        "refused": {"end_reason": "rejected", "status": "rejected"},
        "missed": {"end_reason": "status_callback", "status": "no-answer"},
        "running": {"end_reason": "", "status": "in-progress"},
    }
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    for n, (name, fields) in enumerate(rows.items()):
        Call.objects.create(
            call_sid=f"CA{n:032d}", from_number=name, started_at=now, **fields
        )

    apps = migrate([("calls", "0005_call_outcome_backfill")])
    Call = apps.get_model("calls", "Call")
    outcomes = dict(Call.objects.values_list("from_number", "outcome"))
    assert outcomes == {
        "dropped": "failed",
        "good": "answered",
        "refused": "rejected",
        "missed": "unanswered",
        "running": "",
    }

    apps = migrate([("calls", "0004_call_outcome_and_permissions")])
    Call = apps.get_model("calls", "Call")
    assert set(Call.objects.values_list("outcome", flat=True)) == {""}
    migrate(latest())


def test_it_creates_the_supervisor_and_agent_groups() -> None:
    migrate([("calls", "0005_call_outcome_backfill")])
    apps = migrate([("calls", "0006_review_groups")])
    Group = apps.get_model("auth", "Group")

    def perms(name: str) -> set[str]:
        group = Group.objects.get(name=name)
        return set(group.permissions.values_list("codename", flat=True))

    supervisors, agents = perms("Supervisors"), perms("Agents")
    assert {
        "view_call",
        "export_call",
        "view_live_call",
        "listen_live_call",
        "control_call",
        "view_caller_number",
    } <= supervisors
    assert {"view_call", "view_live_call"} <= agents
    assert agents.isdisjoint({"control_call", "view_caller_number", "export_call"})

    migrate([("calls", "0005_call_outcome_backfill")])
    assert not Group.objects.filter(name__in=["Supervisors", "Agents"]).exists()
    migrate(latest())


def test_it_lets_supervisors_but_not_agents_play_recordings() -> None:
    migrate([("calls", "0005_call_outcome_backfill")])  # before the groups
    apps = migrate([("calls", "0010_supervisors_listen_recording")])
    Group = apps.get_model("auth", "Group")

    def perms(name: str) -> set[str]:
        group = Group.objects.get(name=name)
        return set(group.permissions.values_list("codename", flat=True))

    assert "listen_recording" in perms("Supervisors")
    assert "listen_recording" not in perms("Agents")
    apps = migrate([("calls", "0009_tools_recordings")])
    assert "listen_recording" not in {
        p.codename
        for p in apps.get_model("auth", "Group")
        .objects.get(name="Supervisors")
        .permissions.all()
    }
    migrate(latest())


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


def test_it_rekeys_forget_requests_and_recovers_no_number_it_cannot() -> None:
    apps = migrate([("calls", "0011_end_reason_labels_engine_neutral")])
    ForgetRequest = apps.get_model("calls", "ForgetRequest")
    number = "+15551234567"
    plain = hashlib.sha256(number.encode()).hexdigest()
    known = ForgetRequest.objects.create(
        number_masked="+1555•••4567", number_hash=plain, requested_by="t"
    )
    unknown = ForgetRequest.objects.create(
        number_masked="+1555•••4567", number_hash="0" * 64, requested_by="t"
    )

    apps = migrate([("calls", "0012_forget_request_keyed_hash")])
    ForgetRequest = apps.get_model("calls", "ForgetRequest")
    assert ForgetRequest.objects.get(pk=known.pk).number_hash == number_hash(number)
    assert ForgetRequest.objects.get(pk=unknown.pk).number_hash == ""
    migrate(latest())
