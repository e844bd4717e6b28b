"""Give every existing call its outcome (``calls.vocabulary.outcomes.call_outcome``).

Calls recorded before the outcome existed have only Twilio's status and the end
reason; the same function that services use when a call ends decides for them.
Calls still in progress keep an empty outcome until they end.
"""

from django.db import migrations

from calls.vocabulary.outcomes import call_outcome

BATCH = 500


def fill_outcomes(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    fields = ("pk", "end_reason", "status", "direction", "started_at", "error")
    batch = []
    for call in (
        Call.objects.filter(outcome="").only(*fields).iterator(chunk_size=BATCH)
    ):
        outcome = call_outcome(
            end_reason=call.end_reason,
            status=call.status,
            direction=call.direction,
            streamed=call.started_at is not None,
            error=call.error,
        )
        if not outcome:
            continue
        call.outcome = outcome
        batch.append(call)
        if len(batch) >= BATCH:
            Call.objects.bulk_update(batch, ["outcome"])
            batch = []
    if batch:
        Call.objects.bulk_update(batch, ["outcome"])


def clear_outcomes(apps, schema_editor):
    # The column itself goes with 0004; nothing else depends on the values.
    apps.get_model("calls", "Call").objects.update(outcome="")


class Migration(migrations.Migration):
    dependencies = [("calls", "0004_call_outcome_and_permissions")]

    operations = [migrations.RunPython(fill_outcomes, clear_outcomes)]
