"""Supervisors may play call recordings (``calls.listen_recording``), and see the
tool, handoff and recording rows the call page shows. Agents get nothing new:
recordings carry the caller's voice, a step beyond reading a transcript. Groups
deleted or renamed by staff are left alone.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = (
    "listen_recording",
    "view_recording",
    "view_callassistant",
)


def grant(apps, schema_editor):
    app_config = apps.get_app_config("calls")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Supervisors").first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="calls", codename__in=PERMISSIONS
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Supervisors").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="calls", codename__in=PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0009_tools_recordings"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
