"""A refusal says in words what the missing permission allows and which group
grants it: never a group the viewer is already in, the permission's code only
last, for administrators."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.test import Client

from calls.review import permissions


def refusal(html: str) -> str:
    return html.split('role="alert">')[1].split("</p>")[0]


def test_an_agent_refused_the_hang_up_page_is_sent_to_the_supervisors(
    django_user_model: Any, live_call: Any
) -> None:
    agent = django_user_model.objects.create_user("agent")
    agent.groups.add(Group.objects.get(name="Agents"))
    client = Client()
    client.force_login(agent)
    response = client.get(f"/calls/{live_call.call_sid}/hangup/")
    assert response.status_code == 403
    said = refusal(response.content.decode())
    assert said.startswith(
        "You need permission to hang up and transfer calls in progress"
    )
    assert "the Supervisors group, which has it" in said
    assert "Agents" not in said
    # The code only after the words, for whoever edits the groups.
    assert said.index("Supervisors") < said.index("calls.control_call")


def test_it_names_the_groups_the_database_has(
    django_user_model: Any, live_call: Any
) -> None:
    desk = Group.objects.create(name="Front desk leads")
    desk.permissions.add(Permission.objects.get(codename="control_call"))
    user = django_user_model.objects.create_user("nobody")
    assert permissions.granting_groups(permissions.CONTROL, user) == (
        "Front desk leads",
        "Supervisors",
    )
    said = permissions.missing_message(
        permissions.CONTROL, permissions.granting_groups(permissions.CONTROL, user)
    )
    assert "one of the groups Front desk leads or Supervisors" in said


def test_the_live_sockets_words_name_the_stock_group_that_grants_it() -> None:
    said = permissions.missing_message(permissions.LISTEN_LIVE)
    assert said.startswith("You need permission to listen in to calls in progress")
    assert "the Supervisors group" in said and "Agents" not in said
    assert "to give it to your account" in permissions.missing_message(
        "calls.unknown", ()
    )
