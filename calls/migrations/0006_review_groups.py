"""Create the "Supervisors" and "Agents" groups with their permissions.

Supervisors run the line: they read every call with full numbers, follow and
listen to calls live, hang up and transfer, and download transcripts. Agents
follow the calls they help with: the call log, transcripts and the live view,
with callers' numbers masked. Add users to a group in the admin
(Users -> Groups); edit a group there to change what its members may do.
Existing groups of these names keep their members and gain the permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Supervisors": (
        "calls.view_call",
        "calls.view_transcriptentry",
        "calls.export_call",
        "calls.view_live_call",
        "calls.listen_live_call",
        "calls.control_call",
        "calls.view_caller_number",
        "assistants.view_assistant",
        "assistants.view_phonenumber",
    ),
    "Agents": (
        "calls.view_call",
        "calls.view_transcriptentry",
        "calls.view_live_call",
    ),
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate);
    # create them now so that the groups can hold them on a fresh database.
    for label in ("calls", "assistants"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0005_call_outcome_backfill"),
        ("assistants", "0002_assistant_engine"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
