"""Give every stored persona snapshot the typed Persona's schema version.

Snapshots written before the typed persona have the same field names but no
``schema`` and no ``engine``; every such call ran on OpenAI's Realtime API.
"""

from django.db import migrations

SCHEMA_VERSION = 1
BATCH = 500


def add_schema(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    batch = []
    for call in Call.objects.only("pk", "assistant_snapshot").iterator(
        chunk_size=BATCH
    ):
        snapshot = call.assistant_snapshot
        if not isinstance(snapshot, dict) or not snapshot or "schema" in snapshot:
            continue
        snapshot.setdefault("engine", "openai-realtime")
        snapshot["schema"] = SCHEMA_VERSION
        batch.append(call)
        if len(batch) >= BATCH:
            Call.objects.bulk_update(batch, ["assistant_snapshot"])
            batch = []
    if batch:
        Call.objects.bulk_update(batch, ["assistant_snapshot"])


def remove_schema(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    for call in Call.objects.only("pk", "assistant_snapshot").iterator(
        chunk_size=BATCH
    ):
        snapshot = call.assistant_snapshot
        if isinstance(snapshot, dict) and snapshot.pop("schema", None) is not None:
            call.save(update_fields=["assistant_snapshot"])


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_call_control")]

    operations = [migrations.RunPython(add_schema, remove_schema)]
