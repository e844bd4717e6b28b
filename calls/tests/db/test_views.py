"""The staff pages: permissions, the call log, one call, live calls, dashboard."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from calls.review.timezones import SESSION_KEY
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call

PAGES = ("/calls/", "/calls/live/", "/dashboard/")


@pytest.fixture
def user_client(db: Any, django_user_model: Any) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("someone"))
    return client


@pytest.fixture
def allowed_client(db: Any, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("allowed", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_call", "view_caller_number"])
    )
    client = Client()
    client.force_login(user)
    return client


def detail_urls(call: Any) -> list[str]:
    base = f"/calls/{call.call_sid}/"
    return [base, base + "transcript.json", base + "transcript.csv"]


def test_it_sends_anonymous_viewers_to_the_login_page(
    client: Client, call: Any
) -> None:
    for url in [*PAGES, *detail_urls(call)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_refuses_users_without_the_permission(
    user_client: Client, call: Any
) -> None:
    for url in [*PAGES, *detail_urls(call)]:
        assert user_client.get(url).status_code == 403, url


def test_it_shows_every_page_to_staff(staff_client: Client, call: Any) -> None:
    for url in [*PAGES, *detail_urls(call)]:
        assert staff_client.get(url).status_code == 200, url


def test_it_lists_calls_newest_first_with_their_figures(
    staff_client: Client, assistant: Any, call: Any
) -> None:
    older = make_call(
        assistant=assistant, created_at=call.created_at - dt.timedelta(hours=1)
    )
    response = staff_client.get("/calls/")
    rows = response.context["calls"]
    assert [row.call_sid for row in rows] == [call.call_sid, older.call_sid]
    assert (rows[0].turns, rows[0].p50_reply_ms, rows[0].duration_label) == (
        6,
        960,  # caller stopped -> heard, as on the call page
        "1:35",
    )
    html = response.content.decode()
    assert "960 ms" in html
    assert "$0.5564" in html  # 0.32 audio in + 0.224 audio out + text
    assert f'href="/calls/?assistant={assistant.pk}"' in html
    assert "+1555•••4321" in html
    assert "+15557654321" not in html


def test_it_shows_numbers_to_viewers_allowed_to_see_them(
    allowed_client: Client,
    admin_client: Client,
    staff_client: Client,
    settings: Any,
    call: Any,
) -> None:
    assert "+15557654321" in allowed_client.get("/calls/").content.decode()
    assert "+15557654321" in admin_client.get("/calls/").content.decode()
    detail = f"/calls/{call.call_sid}/"
    assert "+15557654321" not in staff_client.get(detail).content.decode()
    settings.CALLS_MASK_NUMBERS = False
    assert "+15557654321" in staff_client.get(detail).content.decode()


def test_it_puts_calls_in_progress_first(staff_client: Client, assistant: Any) -> None:
    done = make_call(assistant=assistant)
    live = make_call(
        assistant=assistant, live=True, created_at=done.created_at - dt.timedelta(1)
    )
    response = staff_client.get("/calls/")
    assert [c.call_sid for c in response.context["live_calls"]] == [live.call_sid]
    assert [c.call_sid for c in response.context["calls"]] == [done.call_sid]
    html = response.content.decode()
    assert (
        html.index("In progress")
        < html.index(live.call_sid)
        < html.index(done.call_sid)
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("direction=outbound-api", ["outbound"]),
        ("number=%2B1555222", ["other"]),
        ("q=refund", ["failed"]),
        ("q=%2B15552220000", ["other"]),
        ("q=CA00FAILED", ["failed"]),
        ("date_from=2026-02-01&date_to=2026-02-01", ["outbound"]),
        ("status=failed&q=refund", ["failed"]),
        ("status=completed&q=refund", []),
    ],
)
def test_it_filters_and_searches_the_log(
    allowed_client: Client, assistant: Any, query: str, expected: list[str]
) -> None:
    make_call(
        assistant=assistant,
        call_sid="CA00FAILED",
        status="failed",
        entries=[{"role": "caller", "text": "I want a REFUND"}] * 2,
    )
    make_call(
        assistant=assistant,
        call_sid="CA00OUTBOUND",
        direction="outbound-api",
        created_at=dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC),
    )
    make_call(assistant=assistant, call_sid="CA00OTHER", from_number="+15552220000")
    response = allowed_client.get("/calls/?" + query)
    found = [c.call_sid.removeprefix("CA00").lower() for c in response.context["calls"]]
    assert sorted(found) == sorted(expected)


def test_it_filters_by_assistant(
    staff_client: Client, assistant: Any, other_assistant: Any
) -> None:
    mine = make_call(assistant=assistant)
    make_call(assistant=other_assistant)
    response = staff_client.get(f"/calls/?assistant={assistant.pk}")
    assert [c.call_sid for c in response.context["calls"]] == [mine.call_sid]


def test_it_ignores_and_reports_invalid_filters(
    staff_client: Client, call: Any
) -> None:
    response = staff_client.get("/calls/?assistant=999&status=bogus&date_from=x")
    assert [c.call_sid for c in response.context["calls"]] == [call.call_sid]
    assert "Some filters were ignored" in response.content.decode()


def test_it_paginates_and_keeps_the_filters(
    staff_client: Client, assistant: Any
) -> None:
    for _ in range(51):
        make_call(assistant=assistant, status="failed")
    first = staff_client.get("/calls/?status=failed")
    assert len(first.context["calls"]) == 50
    assert "?status=failed&amp;page=2" in first.content.decode()
    second = staff_client.get("/calls/?status=failed&page=2")
    assert len(second.context["calls"]) == 1
    assert second.context["live_calls"] == []


def count_list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/calls/").status_code == 200
    return len(queries)


def test_it_lists_a_page_in_a_fixed_number_of_queries(
    staff_client: Client, assistant: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        make_call(assistant=assistant, entries=CONVERSATION, **USAGE)
    make_call(assistant=assistant, live=True, entries=CONVERSATION)
    few = count_list_queries(staff_client)
    for _ in range(50):
        make_call(assistant=assistant, entries=CONVERSATION, **USAGE)
    with django_assert_max_num_queries(few):
        response = staff_client.get("/calls/")
    assert len(response.context["calls"]) == 50
    assert count_list_queries(staff_client) == few
    # Session, user, 2 x permissions, count, live calls, page, latencies, assistants.
    assert few <= 9


def test_it_shows_one_call_as_a_conversation(staff_client: Client, call: Any) -> None:
    response = staff_client.get(f"/calls/{call.call_sid}/")
    html = response.content.decode()
    assert response.context["turns"] == 6
    assert "Thanks for calling ACME Dental" in html
    assert "I need to move my appointment to Friday." in html
    assert html.count('class="turn turn-caller') == 3
    assert html.count('class="turn turn-assistant') == 3
    assert 'class="turn turn-system' in html and "DTMF 5" in html
    assert "— interrupted by the caller" in html
    assert "Transcription failed" in html
    assert "sent 640 ms" in html and "caller stopped → heard 820 ms" in html
    assert "0:05" in html  # the third turn's offset
    assert "960 ms" in html  # reply p50
    assert "at $32/M" in html and "at $64/M" in html
    assert "$0.5564" in html
    assert "Persona used on this call" in html
    assert "You answer the phone for ACME Dental." in html
    assert "Caller hung up" in html
    assert "data-live-call" not in html


def test_it_follows_a_live_call(staff_client: Client, assistant: Any) -> None:
    live = make_call(assistant=assistant, live=True, entries=CONVERSATION[:1])
    html = staff_client.get(f"/calls/{live.call_sid}/").content.decode()
    assert f'data-live-call="{live.call_sid}"' in html
    assert "calls/live.js" in html


def test_it_answers_404_for_unknown_calls_and_formats(
    staff_client: Client, call: Any
) -> None:
    assert staff_client.get("/calls/CAnope/").status_code == 404
    assert staff_client.get("/calls/CAnope/transcript.json").status_code == 404
    assert staff_client.get(f"/calls/{call.call_sid}/transcript.xml").status_code == 404


def test_it_downloads_the_same_data_as_export_calls(
    admin_client: Client, call: Any
) -> None:
    out = StringIO()
    call_command("export_calls", "--call-sid", call.call_sid, stdout=out)
    response = admin_client.get(f"/calls/{call.call_sid}/transcript.json")
    assert response["Content-Type"] == "application/json"
    assert f'filename="{call.call_sid}.json"' in response["Content-Disposition"]
    assert json.loads(response.content) == json.loads(out.getvalue())

    out = StringIO()
    call_command(
        "export_calls", "--call-sid", call.call_sid, "--format=csv", stdout=out
    )
    response = admin_client.get(f"/calls/{call.call_sid}/transcript.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode() == out.getvalue()


def test_it_masks_numbers_in_downloads(staff_client: Client, call: Any) -> None:
    data = staff_client.get(f"/calls/{call.call_sid}/transcript.json").json()
    assert data[0]["from"] == "+1555•••4321"
    csv_text = staff_client.get(f"/calls/{call.call_sid}/transcript.csv").content
    assert b"+15557654321" not in csv_text


def test_it_renders_the_live_page_without_javascript(
    staff_client: Client, assistant: Any
) -> None:
    live = make_call(assistant=assistant, live=True)
    finished = make_call(assistant=assistant)
    html = staff_client.get("/calls/live/").content.decode()
    assert f'data-call-sid="{live.call_sid}"' in html
    assert finished.call_sid not in html
    assert 'aria-live="polite"' in html
    assert "+1555•••4321" in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?days=7",
        "?days=30",
        "?days=90",
        "?date_from=2026-01-01&date_to=2026-01-31",
        "?days=5",
    ],
)
def test_it_shows_the_dashboard(staff_client: Client, call: Any, query: str) -> None:
    response = staff_client.get("/dashboard/" + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= (1 if "2026-01" in query else 3)
    assert 'href="/dashboard/" aria-current="page"' in html


def test_it_keeps_the_valid_dashboard_fields(staff_client: Client, call: Any) -> None:
    response = staff_client.get("/dashboard/?days=5&date_from=2026-01-01&date_to=x")
    period = response.context["period"]
    assert period.first_day == dt.date(2026, 1, 1)
    assert "Select a valid choice" in response.content.decode()


def test_it_sums_the_dashboard_figures(staff_client: Client, assistant: Any) -> None:
    make_call(assistant=assistant, entries=CONVERSATION, **USAGE)
    make_call(assistant=assistant, status="no-answer", started_at=None)
    response = staff_client.get("/dashboard/?days=7")
    context = response.context
    assert (context["total_calls"], context["answered_calls"]) == (2, 1)
    assert context["answer_rate"] == 0.5
    # The headline: caller stopped -> heard (820 and 1100 ms).
    assert [(r.name, r.p50_ms) for r in context["latency"]] == [("Front desk", 960)]
    assert context["usage"][0].input_tokens == 12_000
    html = response.content.decode()
    assert "<dd>50%</dd>" in html
    assert "2 calls, 1 answered" in html


def test_it_shows_times_in_the_viewers_time_zone(
    staff_client: Client, assistant: Any
) -> None:
    call = make_call(
        assistant=assistant, created_at=dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC)
    )
    url = f"/calls/{call.call_sid}/"
    assert "2026-01-15 23:30:00 UTC" in staff_client.get(url).content.decode()
    response = staff_client.post("/timezone/", {"timezone": "Asia/Tokyo", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert staff_client.session[SESSION_KEY] == "Asia/Tokyo"
    html = staff_client.get(url).content.decode()
    assert "2026-01-16 08:30:00 JST" in html
    assert "<option selected>Asia/Tokyo</option>" in html


def test_it_resets_unknown_time_zones_and_refuses_offsite_redirects(
    staff_client: Client,
) -> None:
    staff_client.post("/timezone/", {"timezone": "Europe/Paris"})
    response = staff_client.post(
        "/timezone/", {"timezone": "Mars/Olympus", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    assert SESSION_KEY not in staff_client.session


def test_it_has_accessible_page_furniture(staff_client: Client, call: Any) -> None:
    html = staff_client.get("/calls/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<html lang="en">' in html
    for field in ("q", "assistant", "number", "status", "direction", "date_from"):
        assert f'<label for="id_{field}">' in html
    assert '<label for="tz-select">Time zone</label>' in html
    assert html.count("<h1") == 1


def test_it_counts_only_answered_calls_and_breaks_failures_down(
    staff_client: Client, assistant: Any
) -> None:
    make_call(assistant=assistant, entries=CONVERSATION)
    # Twilio says "completed" for the dropped call; it is not an answered one.
    make_call(assistant=assistant, end_reason="realtime_disconnected")
    make_call(assistant=assistant, end_reason="realtime_disconnected")
    make_call(assistant=assistant, end_reason="realtime_error")
    make_call(assistant=assistant, status="rejected", end_reason="rejected")
    response = staff_client.get("/dashboard/?days=7")
    context = response.context
    assert (context["total_calls"], context["answered_calls"]) == (5, 1)
    assert (context["failed_calls"], context["failure_rate"]) == (3, 0.6)
    assert context["answer_rate"] == 0.2
    failures = context["failures"]
    assert failures.labels == [
        "Voice engine connection dropped",
        "Voice engine error",
    ]
    assert [row.counts for row in failures.rows] == [(2, 1)]
    html = response.content.decode()
    assert "<dd>20%</dd>" in html and "<dd>60%</dd>" in html
    assert 'id="failures-table"' in html


def test_it_shows_the_outcome_badge_and_filters_by_it(
    staff_client: Client, assistant: Any
) -> None:
    good = make_call(assistant=assistant)
    dropped = make_call(assistant=assistant, end_reason="realtime_disconnected")
    html = staff_client.get("/calls/").content.decode()
    assert 'class="badge outcome-failed"' in html
    assert 'class="badge outcome-answered"' in html
    assert "Voice engine connection dropped" in html  # the end reason column
    failed = staff_client.get("/calls/?outcome=failed").context["calls"]
    assert [c.call_sid for c in failed] == [dropped.call_sid]
    by_reason = staff_client.get("/calls/?end_reason=caller_hung_up").context["calls"]
    assert [c.call_sid for c in by_reason] == [good.call_sid]
    detail = staff_client.get(f"/calls/{dropped.call_sid}/").content.decode()
    assert 'class="badge outcome-failed" id="call-status"' in detail
    export = staff_client.get(f"/calls/{dropped.call_sid}/transcript.json")
    assert json.loads(export.content)[0]["outcome"] == "failed"
