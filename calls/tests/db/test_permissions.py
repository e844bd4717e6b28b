"""Permissions that mean something: each page, download and socket, allowed and
refused; the product's own login; number search under masking."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.test import Client

from calls.review.live import LiveCallsConsumer
from calls.tests.support.review_helpers import make_call


def user_with(django_user_model: Any, *codenames: str, staff: bool = False) -> Any:
    user = django_user_model.objects.create_user(
        "u-" + "-".join(codenames or ("none",)) + ("-staff" if staff else ""),
        password="pw-for-tests-123",
        is_staff=staff,
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="calls", codename__in=codenames
        )
    )
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(call: Any, live_call: Any) -> list[tuple[str, tuple[str, ...]]]:
    """Each page and the permissions it needs."""
    sid, live_sid = call.call_sid, live_call.call_sid
    return [
        ("/calls/", ("view_call",)),
        (f"/calls/{sid}/", ("view_call",)),
        ("/dashboard/", ("view_call",)),
        ("/calls/live/", ("view_live_call",)),
        (f"/calls/{sid}/transcript.json", ("view_call", "export_call")),
        (f"/calls/{sid}/transcript.csv", ("view_call", "export_call")),
        (f"/calls/{live_sid}/hangup/", ("control_call",)),
        (f"/calls/{live_sid}/transfer/", ("control_call",)),
    ]


def test_it_opens_each_page_with_its_permissions_only(
    django_user_model: Any, call: Any, live_call: Any
) -> None:
    for url, needed in pages(call, live_call):
        # Non-staff: staff status plays no part on these pages.
        holder = user_with(django_user_model, *needed)
        assert client_for(holder).get(url).status_code == 200, url
        holder.delete()
        for missing in needed:
            rest = [codename for codename in needed if codename != missing]
            user = user_with(django_user_model, *rest, staff=True)
            response = client_for(user).get(url)
            assert response.status_code == 403, (url, missing)
            assert f"calls.{missing}" in response.content.decode(), (url, missing)
            user.delete()


def test_it_explains_the_missing_permission_on_the_403_page(
    django_user_model: Any, call: Any
) -> None:
    staff = client_for(user_with(django_user_model, staff=True))
    response = staff.get("/calls/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You may not open this page" in html
    assert "calls.view_call" in html and "view calls and their transcripts" in html
    assert "Supervisors" in html
    assert 'href="/admin/"' in html  # staff keep their way to the admin


def test_it_gives_the_groups_what_their_members_need(
    django_user_model: Any, call: Any, live_call: Any
) -> None:
    supervisor = django_user_model.objects.create_user("boss")
    supervisor.groups.add(Group.objects.get(name="Supervisors"))
    agent = django_user_model.objects.create_user("agent")
    agent.groups.add(Group.objects.get(name="Agents"))
    for url, _ in pages(call, live_call):
        assert client_for(supervisor).get(url).status_code == 200, url
    agent_client = client_for(agent)
    for url in ("/calls/", f"/calls/{call.call_sid}/", "/calls/live/"):
        assert agent_client.get(url).status_code == 200, url
    assert agent_client.get(f"/calls/{call.call_sid}/transcript.csv").status_code == 403
    assert agent_client.get(f"/calls/{live_call.call_sid}/hangup/").status_code == 403
    assert "+15557654321" not in agent_client.get("/calls/").content.decode()
    assert "+15557654321" in client_for(supervisor).get("/calls/").content.decode()


def test_it_hides_what_the_viewer_may_not_use(
    django_user_model: Any, call: Any
) -> None:
    viewer = client_for(user_with(django_user_model, "view_call"))
    html = viewer.get(f"/calls/{call.call_sid}/").content.decode()
    assert "transcript.json" not in html  # no export permission
    assert 'href="/calls/live/"' not in html  # no live permission
    assert 'href="/admin/"' not in html  # not staff
    exporter = client_for(user_with(django_user_model, "view_call", "export_call"))
    assert (
        "transcript.json" in exporter.get(f"/calls/{call.call_sid}/").content.decode()
    )


@pytest.mark.django_db(transaction=True)
async def test_it_opens_the_live_socket_only_with_its_permission(
    django_user_model: Any,
) -> None:
    async def connects(user: Any) -> bool:
        socket = WebsocketCommunicator(LiveCallsConsumer.as_asgi(), "/ws/calls/live/")
        socket.scope["user"] = user  # type: ignore[typeddict-unknown-key]
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    make = database_sync_to_async(user_with)
    try:
        assert await connects(await make(django_user_model, "view_live_call"))
        assert not await connects(
            await make(django_user_model, "view_call", staff=True)
        )
        inactive = await make(django_user_model, "view_live_call", "view_call")
        inactive.is_active = False
        await database_sync_to_async(inactive.save)()
        assert not await connects(inactive)
    finally:
        await database_sync_to_async(connections.close_all)()


def test_it_logs_in_staff_and_non_staff_on_its_own_page(
    client: Client, django_user_model: Any, call: Any
) -> None:
    form = client.get("/accounts/login/?next=/calls/")
    assert form.status_code == 200
    assert 'name="password"' in form.content.decode()
    for staff in (False, True):
        user = user_with(django_user_model, "view_call", staff=staff)
        response = client.post(
            "/accounts/login/",
            {
                "username": user.username,
                "password": "pw-for-tests-123",
                "next": "/calls/",
            },
        )
        assert response.status_code == 302 and response["Location"] == "/calls/"
        assert client.get("/calls/").status_code == 200
        logout = client.post("/accounts/logout/")
        assert logout.status_code == 302
        assert logout["Location"] == "/accounts/login/"
        assert client.get("/calls/").status_code == 302
    refused = client.post(
        "/accounts/login/", {"username": "nobody", "password": "wrong-password"}
    )
    assert refused.status_code == 200
    assert "enter a correct username and password" in refused.content.decode()


def test_it_changes_the_password(django_user_model: Any) -> None:
    user = user_with(django_user_model, "view_call")
    client = client_for(user)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-for-tests-123",
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase-42")
    assert client.get("/accounts/password/done/").status_code == 200
    assert Client().get("/accounts/password/").status_code == 302


@pytest.mark.parametrize(
    ("query", "masked", "full"),
    [
        # The masked row shows +1555•••4321: only its last four digits can match.
        ("number=%2B15557654321", [], ["in", "out"]),
        ("number=4321", ["in", "out"], ["in", "out"]),
        ("number=321", ["in", "out"], ["in", "out"]),
        ("number=7654", [], ["in", "out"]),
        ("q=%2B15557654321", [], ["in", "out"]),
        ("q=765432", [], ["in", "out"]),
        ("q=4321", ["in", "out"], ["in", "out"]),
        # Our own number is shown in full, so it matches in full.
        ("number=%2B15550000001", ["in", "out"], ["in", "out"]),
    ],
)
def test_it_matches_numbers_only_as_far_as_the_viewer_sees_them(
    django_user_model: Any,
    assistant: Any,
    query: str,
    masked: list[str],
    full: list[str],
) -> None:
    make_call(assistant=assistant, call_sid="CAin")
    make_call(
        assistant=assistant,
        call_sid="CAout",
        direction="outbound-api",
        from_number="+15550000001",
        to_number="+15557654321",
    )
    for codenames, expected in (
        (("view_call",), masked),
        (("view_call", "view_caller_number"), full),
    ):
        client = client_for(user_with(django_user_model, *codenames))
        response = client.get("/calls/?" + query)
        found = sorted(c.call_sid.removeprefix("CA") for c in response.context["calls"])
        assert found == sorted(expected), (query, codenames)
