"""What assistants did, as staff see it: tool rows, transfers and handoffs on the
call page, the call log, the live payload, the exports and the admin."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls import pricing
from calls.models import CallAssistant, EndReason, TranscriptEntry
from calls.review import display, exports, tool_rows, turn_rows
from calls.runtime.bus.live_events import entry_payload
from calls.tests.support.review_helpers import make_call
from calls.vocabulary import outcomes

DESTINATION = "+15559876543"
MASKED_DESTINATION = "+1555•••6543"
TOOL_ARGUMENTS = '{"day": "Friday", "note": "<b>asap</b>"}'
TOOL_ROWS = (
    {"role": "caller", "text": "Book me in on Friday."},
    {
        "role": "tool",
        "tool_name": "book_slot",
        "tool_arguments": TOOL_ARGUMENTS,
        "tool_status": "ok",
        "duration_ms": 120,
        "text": '{"booked": true, "slot": "10:00"}',
    },
    {
        "role": "tool",
        "tool_name": "crm_lookup",
        "tool_arguments": "not json <i>",
        "tool_status": "timeout",
        "duration_ms": 5000,
        "text": "no answer in 5 s <script>alert(1)</script>",
    },
    {"role": "assistant", "text": "You're booked for ten."},
)


@pytest.fixture
def numbers_client(db: Any, django_user_model: Any) -> Client:
    """Staff who see full numbers (calls.view_caller_number)."""
    user = django_user_model.objects.create_user("numbers", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_call", "view_caller_number", "export_call"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tool_call(assistant: Any, other_assistant: Any) -> Any:
    call = make_call(
        assistant=assistant,
        entries=TOOL_ROWS,
        end_reason=EndReason.TRANSFERRED,
        transfer_to=DESTINATION,
        transfer_status="busy",
        streams=2,
        handoffs=1,
    )
    now = timezone.now()
    CallAssistant.objects.create(
        call=call, assistant=assistant, name="Front desk", offset_ms=0, started_at=now
    )
    CallAssistant.objects.create(
        call=call,
        assistant=other_assistant,
        name="Billing",
        offset_ms=83_000,
        started_at=now,
    )
    return call


def test_it_pretty_prints_json_and_keeps_other_text() -> None:
    assert (
        tool_rows.pretty_json('{"a":1,"b":[2]}')
        == '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}'
    )
    assert tool_rows.pretty_json("plain words") == "plain words"
    assert tool_rows.pretty_json('"a string"') == '"a string"'
    assert tool_rows.pretty_json("") == ""


def test_it_gives_the_page_view_models_and_leaves_the_rows_alone(
    tool_call: Any,
) -> None:
    entries = list(tool_call.transcript_entries.order_by("seq"))
    rows = turn_rows.transcript_rows(entries)
    assert [type(row) for row in rows] == [
        turn_rows.TurnRow,
        turn_rows.ToolRow,
        turn_rows.ToolRow,
        turn_rows.TurnRow,
    ]
    tool = rows[1]
    assert isinstance(tool, turn_rows.ToolRow)
    assert tool.role == "tool"
    assert tool.arguments_shown == tool_rows.pretty_json(TOOL_ARGUMENTS)
    assert tool.offset_label == "0:02"
    with pytest.raises(AttributeError):
        tool.tool_name = "changed"  # type: ignore[misc]  # frozen on purpose
    # Nothing display-only lands on the ORM rows.
    assert not any(hasattr(entry, "arguments_shown") for entry in entries)
    assert not any(hasattr(entry, "offset_label") for entry in entries)


def test_it_splits_a_turns_latency_where_the_engine_measured_it() -> None:
    def latency(**fields: int) -> display.TurnLatency | None:
        return display.turn_latency(TranscriptEntry(role="assistant", **fields))

    assert latency() is None
    assert latency(heard_latency_ms=700) == display.TurnLatency(heard=700)
    assert latency(reply_latency_ms=500, engine_latency_ms=0) == (
        display.TurnLatency(sent=500, engine=0, silence=500)
    )
    # An engine share longer than the whole wait is no share: left out.
    assert latency(
        reply_latency_ms=500, heard_latency_ms=400, engine_latency_ms=600
    ) == display.TurnLatency(heard=400, sent=500)
    assert latency(
        reply_latency_ms=300, heard_latency_ms=900, engine_latency_ms=200
    ) == display.TurnLatency(heard=900, sent=300, engine=200, silence=100, playback=600)


def test_it_shows_a_tool_row_folded_with_pretty_escaped_json(
    staff_client: Client, tool_call: Any
) -> None:
    html = staff_client.get(tool_call.get_absolute_url()).content.decode()
    assert html.count('<details class="tool-call">') == 2
    assert '<code class="tool-name">book_slot</code>' in html
    assert '<span class="tool-status tool-status-ok">ok</span>' in html
    assert '<span class="tool-duration">120 ms</span>' in html
    # Indented server-side, then escaped: the model's markup is text.
    assert "{\n  &quot;day&quot;: &quot;Friday&quot;," in html
    assert "&lt;b&gt;asap&lt;/b&gt;" in html and "<b>asap</b>" not in html
    assert "&quot;booked&quot;: true" in html
    # Not JSON: shown as it came, escaped, under "Error" for a timeout.
    assert '<pre class="tool-arguments">not json &lt;i&gt;</pre>' in html
    assert "tool-status-timeout" in html and ">Error</p>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_shows_who_handled_the_call_and_where_it_went(
    staff_client: Client, numbers_client: Client, tool_call: Any
) -> None:
    html = staff_client.get(tool_call.get_absolute_url()).content.decode()
    handled = html.split('id="handled-by"')[1].split("</ol>")[0]
    assert "Front desk" in handled and "Billing" in handled
    assert handled.index("Front desk") < handled.index("Billing")
    assert "from 1:23" in handled
    assert "1 handoff" in html
    transfer = html.split('id="transfer"')[1].split("</dd>")[0]
    assert MASKED_DESTINATION in transfer and DESTINATION not in html
    assert "busy" in transfer and "came back to the assistant" in transfer
    full = numbers_client.get(tool_call.get_absolute_url()).content.decode()
    assert DESTINATION in full.split('id="transfer"')[1].split("</dd>")[0]


def test_it_badges_and_filters_transfers_and_handoffs(
    staff_client: Client, numbers_client: Client, assistant: Any, tool_call: Any
) -> None:
    plain = make_call(assistant=assistant)
    handed = make_call(assistant=assistant, handoffs=2)
    staff_transfer = make_call(
        assistant=assistant, end_reason=EndReason.TRANSFERRED, transfer_to=""
    )

    html = staff_client.get("/calls/").content.decode()
    assert html.count("tag tag-transferred") == 2
    assert MASKED_DESTINATION in html and DESTINATION not in html
    assert "2 handoffs" in html and "1 handoff<" in html
    assert DESTINATION in numbers_client.get("/calls/").content.decode()

    def listed(query: str) -> set[str]:
        response = staff_client.get("/calls/?" + query)
        return {call.call_sid for call in response.context["calls"]}

    assert listed("transferred=on") == {tool_call.call_sid, staff_transfer.call_sid}
    assert listed("handed_off=on") == {tool_call.call_sid, handed.call_sid}
    assert listed("transferred=on&handed_off=on") == {tool_call.call_sid}
    assert plain.call_sid in listed("")


def test_it_exports_tool_fields_and_the_handling(tool_call: Any) -> None:
    [data] = list(
        exports.iter_call_dicts(
            exports.export_queryset(call_sid=tool_call.call_sid),
            prices=pricing.Prices(),
            show_numbers=False,
        )
    )
    caller, tool, timeout, assistant = data["transcript"]
    assert "tool_name" not in caller and "tool_name" not in assistant
    assert {k: tool[k] for k in ("tool_name", "tool_arguments", "tool_status")} == {
        "tool_name": "book_slot",
        "tool_arguments": TOOL_ARGUMENTS,
        "tool_status": "ok",
    }
    assert tool["duration_ms"] == 120 and tool["text"].startswith('{"booked"')
    assert timeout["tool_status"] == "timeout"
    assert data["transfer_status"] == "busy"
    assert data["transfer_to"] == MASKED_DESTINATION
    assert (data["handoffs"], data["streams"]) == (1, 2)
    assert [(s["name"], s["offset_ms"]) for s in data["assistants"]] == [
        ("Front desk", 0),
        ("Billing", 83_000),
    ]

    text = "".join(exports.iter_csv([data]))
    header, *rows = list(csv.reader(io.StringIO(text)))
    # Existing columns keep their places; the new ones come after them.
    old = len(exports.CALL_COLUMNS) + len(exports.ENTRY_COLUMNS)
    assert header[:old] == [*exports.CALL_COLUMNS, *exports.ENTRY_COLUMNS]
    assert header[old:] == [
        "tool_name",
        "tool_arguments",
        "tool_status",
        "duration_ms",
        "transfer_to",
        "transfer_status",
        "streams",
        "handoffs",
    ]
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert by_name[1]["tool_name"] == "book_slot"
    assert by_name[1]["duration_ms"] == "120"
    assert by_name[0]["tool_name"] == "" and by_name[0]["transfer_status"] == "busy"
    assert json.loads(by_name[1]["tool_arguments"])["day"] == "Friday"


def test_it_downloads_the_export_with_the_destination_masked(
    staff_client: Client, tool_call: Any
) -> None:
    url = reverse("calls:transcript_download", args=[tool_call.call_sid, "json"])
    response = staff_client.get(url)
    [data] = json.loads(response.content)
    assert data["transfer_to"] == MASKED_DESTINATION
    assert DESTINATION not in response.content.decode()


@pytest.mark.parametrize(
    "reason", [EndReason.ASSISTANT_ENDED, EndReason.SILENCE_TIMEOUT]
)
def test_it_counts_calls_the_assistant_ended_as_answered(reason: str) -> None:
    assert outcomes.call_outcome(end_reason=reason, status="completed") == "answered"
    assert outcomes.call_outcome(end_reason=reason, status="in-progress") == "answered"
    # Twilio's word still wins when nobody picked up.
    assert outcomes.call_outcome(end_reason=reason, status="busy") == "unanswered"


def test_it_publishes_tool_fields_on_tool_rows_only(tool_call: Any) -> None:
    entries = list(TranscriptEntry.objects.filter(call=tool_call).order_by("seq"))
    caller = entry_payload(entries[0])
    assert "tool_name" not in caller and "duration_ms" not in caller
    tool = entry_payload(entries[1])
    assert tool["role"] == "tool"
    assert {k: tool[k] for k in ("tool_name", "tool_status", "duration_ms")} == {
        "tool_name": "book_slot",
        "tool_status": "ok",
        "duration_ms": 120,
    }
    assert tool["tool_arguments"] == TOOL_ARGUMENTS
    assert json.loads(json.dumps(tool)) == tool  # goes over the channel layer


def test_it_shows_tools_and_spans_in_the_admin(
    admin_client: Client, tool_call: Any, assistant: Any
) -> None:
    page = admin_client.get(f"/admin/calls/call/{tool_call.pk}/change/")
    html = page.content.decode()
    assert "book_slot" in html and "timeout" in html
    assert "Billing" in html  # the CallAssistant inline
    assert DESTINATION in html  # a superuser sees numbers in full
    plain = make_call(assistant=assistant)

    def listed(query: str) -> set[str]:
        response = admin_client.get("/admin/calls/call/?" + query)
        assert response.status_code == 200
        return {c.call_sid for c in response.context["cl"].result_list}

    assert listed("transferred=yes") == {tool_call.call_sid}
    assert listed("handed_off=no") == {plain.call_sid}
    assert listed("transfer_status=busy") == {tool_call.call_sid}


def test_it_masks_the_destination_in_the_admin(
    client: Client, staff_user: Any, tool_call: Any
) -> None:
    client.force_login(staff_user)  # view_call, not view_caller_number
    html = client.get(f"/admin/calls/call/{tool_call.pk}/change/").content.decode()
    assert MASKED_DESTINATION in html and DESTINATION not in html
    # A lookup on the destination would confirm the hidden digits.
    response = client.get(f"/admin/calls/call/?transfer_to={DESTINATION}")
    assert response.status_code != 200 or DESTINATION not in response.content.decode()
