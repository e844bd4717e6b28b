"""The calls admin: browsable and read-only, transcript inline, numbers masked."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from assistants.models import PhoneNumber
from calls.models import Call, CallDirection, CallStatus, TranscriptEntry
from calls.privacy.masking import shown_numbers


@pytest.fixture
def call(phone_number: PhoneNumber) -> Call:
    call = Call.objects.create(
        call_sid="CA" + "5" * 32,
        from_number="+15557654321",
        to_number=phone_number.number,
        phone_number=phone_number,
        assistant=phone_number.assistant,
        assistant_snapshot=phone_number.assistant.snapshot(),
        status=CallStatus.COMPLETED,
    )
    TranscriptEntry.objects.create(
        call=call, seq=0, role="assistant", text="Hello there!"
    )
    TranscriptEntry.objects.create(
        call=call, seq=1, role="caller", text="I need a dentist."
    )
    return call


def test_it_lists_calls_with_a_link_to_their_page(
    admin_client: Any, call: Call
) -> None:
    response = admin_client.get("/admin/calls/call/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<a href="/calls/{call.call_sid}/">Open</a>' in html
    assert "Front desk" in html


@pytest.mark.parametrize(
    ("query", "found"),
    [("dentist", 1), ("+15557654321", 1), ("CA5555", 1), ("nothing like it", 0)],
)
def test_it_searches_sids_numbers_and_transcripts(
    admin_client: Any, call: Call, query: str, found: int
) -> None:
    response = admin_client.get("/admin/calls/call/", {"q": query})

    assert response.context["cl"].result_count == found


def test_it_filters_by_assistant_and_status(admin_client: Any, call: Call) -> None:
    response = admin_client.get(
        "/admin/calls/call/",
        {"assistant__id__exact": call.assistant_id, "status__exact": "completed"},
    )

    assert response.context["cl"].result_count == 1


def test_it_shows_a_call_read_only_with_its_transcript(
    admin_client: Any, call: Call
) -> None:
    response = admin_client.get(f"/admin/calls/call/{call.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello there!" in html
    assert "I need a dentist." in html
    assert 'name="_save"' not in html
    assert 'name="status"' not in html
    assert 'name="transcript_entries-0-text"' not in html
    assert "&quot;name&quot;: &quot;Front desk&quot;" in html  # the snapshot, escaped


def test_it_forbids_adding_or_editing_a_call(admin_client: Any, call: Call) -> None:
    assert admin_client.get("/admin/calls/call/add/").status_code == 403
    response = admin_client.post(
        f"/admin/calls/call/{call.pk}/change/", {"status": "failed"}
    )
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED


def test_it_masks_callers_for_staff_without_the_permission(
    client: Any, staff_user: Any, call: Call
) -> None:
    staff_user.user_permissions.add(Permission.objects.get(codename="view_call"))
    client.force_login(staff_user)

    listing = client.get("/admin/calls/call/").content.decode()
    page = client.get(f"/admin/calls/call/{call.pk}/change/").content.decode()

    for html in (listing, page):
        assert "+1555•••4321" in html
        assert "+15557654321" not in html
    assert "I need a dentist." in page


def test_it_shows_full_numbers_with_the_permission(
    client: Any, staff_user: Any, call: Call
) -> None:
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_call", "view_caller_number"])
    )
    client.force_login(staff_user)

    assert "+15557654321" in client.get("/admin/calls/call/").content.decode()


@pytest.fixture
def masked_client(client: Any, staff_user: Any) -> Any:
    """Staff who may browse calls but not see callers' numbers in full."""
    staff_user.user_permissions.add(Permission.objects.get(codename="view_call"))
    client.force_login(staff_user)
    return client


@pytest.fixture
def outbound_call(phone_number: PhoneNumber) -> Call:
    return Call.objects.create(
        call_sid="CA" + "6" * 32,
        direction=CallDirection.OUTBOUND_API,
        from_number=phone_number.number,
        to_number="+15551239876",
        phone_number=phone_number,
        assistant=phone_number.assistant,
        status=CallStatus.COMPLETED,
    )


def test_it_masks_the_other_party_like_the_pages(
    masked_client: Any, call: Call, outbound_call: Call
) -> None:
    listing = masked_client.get("/admin/calls/call/").content.decode()
    page = masked_client.get(f"/admin/calls/call/{outbound_call.pk}/change/")

    for masked_call in (call, outbound_call):
        shown_from, shown_to = shown_numbers(
            direction=masked_call.direction,
            from_number=masked_call.from_number,
            to_number=masked_call.to_number,
            show=False,
        )
        assert shown_from in listing
        assert shown_to in listing
    # Outbound, the called party is the one masked; our own line stays readable.
    assert "+1555•••9876" in listing
    assert "+15551239876" not in listing
    assert "+1555•••9876" in page.content.decode()
    assert "+15551239876" not in page.content.decode()
    assert outbound_call.from_number in page.content.decode()


@pytest.mark.parametrize("query", ["+15557654321", "7654321", "+15551239876"])
def test_it_does_not_search_numbers_for_staff_without_the_permission(
    masked_client: Any, call: Call, outbound_call: Call, query: str
) -> None:
    response = masked_client.get("/admin/calls/call/", {"q": query})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_it_still_searches_sids_and_transcripts_for_staff_without_the_permission(
    masked_client: Any, call: Call
) -> None:
    by_sid = masked_client.get("/admin/calls/call/", {"q": "CA5555"})
    by_text = masked_client.get("/admin/calls/call/", {"q": "dentist"})

    assert by_sid.context["cl"].result_count == 1
    assert by_text.context["cl"].result_count == 1


@pytest.mark.parametrize(
    "lookup",
    [
        {"from_number": "+15557654321"},
        {"from_number__startswith": "+1555765"},
        {"to_number__exact": "+15551239876"},
    ],
)
def test_it_refuses_number_lookups_to_staff_without_the_permission(
    masked_client: Any, call: Call, outbound_call: Call, lookup: dict[str, str]
) -> None:
    response = masked_client.get("/admin/calls/call/", lookup)

    # DisallowedModelAdminLookup: a 400, not a filtered (and confirming) list.
    assert response.status_code == 400


def test_it_searches_and_filters_numbers_with_the_permission(
    client: Any, staff_user: Any, call: Call, outbound_call: Call
) -> None:
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_call", "view_caller_number"])
    )
    client.force_login(staff_user)

    searched = client.get("/admin/calls/call/", {"q": "+15551239876"})
    filtered = client.get("/admin/calls/call/", {"from_number": "+15557654321"})

    assert searched.context["cl"].result_count == 1
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 1
    assert "+15551239876" in searched.content.decode()


def test_it_titles_the_call_page_with_the_number_masked_as_on_the_page(
    masked_client: Any, call: Call, outbound_call: Call
) -> None:
    for masked_call, title in (
        (call, f"{call.call_sid} from +1555•••4321"),
        (outbound_call, f"{outbound_call.call_sid} to +1555•••9876"),
    ):
        html = masked_client.get(f"/admin/calls/call/{masked_call.pk}/change/")
        assert str(masked_call) == title
        assert title in html.content.decode()


def test_it_shows_and_filters_the_outcome(admin_client: Any, call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(
        outcome="failed", end_reason="realtime_error"
    )
    listing = admin_client.get("/admin/calls/call/").content.decode()
    assert ">Failed</span>" in listing
    assert "Voice engine error" in listing
    filtered = admin_client.get("/admin/calls/call/?outcome__exact=answered")
    assert call.call_sid[:8] not in filtered.content.decode()
    assert (
        admin_client.get("/admin/calls/call/?outcome__exact=failed").status_code == 200
    )
