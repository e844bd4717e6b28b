"""review.exports and ``manage.py export_calls``: JSON and CSV, streamed, no N+1."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls import pricing
from calls.review import exports
from calls.tests.support.review_helpers import CONVERSATION, USAGE, make_call


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_calls", *args, stdout=out)
    return out.getvalue()


def test_it_exports_calls_as_json(call: Any) -> None:
    [data] = json.loads(export())
    assert {
        key: data[key]
        for key in ("call_sid", "status", "direction", "from", "to", "assistant")
    } == {
        "call_sid": call.call_sid,
        "status": "completed",
        "direction": "inbound",
        "from": "+15557654321",
        "to": "+15550000001",
        "assistant": "Front desk",
    }
    assert data["duration_seconds"] == 95
    assert data["end_reason"] == "caller_hung_up"
    assert data["started_at"] == call.started_at.isoformat()
    assert data["ended_at"] == call.ended_at.isoformat()
    assert data["transcript"][2] == {
        "seq": 2,
        "role": "assistant",
        "text": "Of course. Friday at ten or at two",
        "interrupted": True,
        "failed": False,
        "offset_ms": 5000,
        "item_id": "",
        "reply_latency_ms": 640,
        "heard_latency_ms": 820,
        "engine_latency_ms": None,
    }
    assert data["transcript"][6]["failed"] is True
    assert [t["seq"] for t in data["turns"]] == [0, 2, 5]
    assert data["turns"][1] == {
        "seq": 2,
        "item_id": "",
        "reply_latency_ms": 640,
        "heard_latency_ms": 820,
        "engine_latency_ms": None,
    }
    assert data["usage"] == {**USAGE, "session_seconds": 0}
    assert data["engine"] == "openai-realtime"
    # One figure, as on the pages: what the caller waited; ours apart.
    assert data["latency"]["reply_p50_ms"] == 960
    assert data["latency"]["sent_p50_ms"] == 770
    assert data["estimated_cost_usd"] == pytest.approx(0.5564)
    assert data["cost_breakdown"]["input_audio"]["price_per_m"] == 32.0
    assert data["persona"]["voice"] == "marin"


def test_it_exports_one_row_per_entry_as_csv(call: Any, assistant: Any) -> None:
    silent = make_call(assistant=assistant, status="no-answer")
    rows = list(csv.DictReader(io.StringIO(export("--format", "csv"))))
    assert len(rows) == len(CONVERSATION) + 1
    first = rows[0]
    assert first["call_sid"] == call.call_sid
    assert first["from"] == "+15557654321"
    assert first["input_audio_tokens"] == "10000"
    assert first["estimated_cost_usd"] == "0.5564"
    assert [r["role"] for r in rows[:3]] == ["assistant", "caller", "assistant"]
    assert rows[2]["interrupted"] == "True"
    assert rows[2]["reply_latency_ms"] == "640"
    assert rows[-1]["call_sid"] == silent.call_sid
    assert rows[-1]["seq"] == "" and rows[-1]["text"] == ""


def test_it_exports_one_call(call: Any, assistant: Any) -> None:
    make_call(assistant=assistant)
    data = json.loads(export("--call-sid", call.call_sid))
    assert [c["call_sid"] for c in data] == [call.call_sid]
    with pytest.raises(CommandError, match="No call"):
        export("--call-sid", "CAnope")


def test_it_exports_calls_since_a_date(assistant: Any) -> None:
    make_call(
        assistant=assistant, created_at=dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    )
    new = make_call(
        assistant=assistant, created_at=dt.datetime(2026, 2, 1, 0, 0, tzinfo=dt.UTC)
    )
    assert [c["call_sid"] for c in json.loads(export("--since", "2026-02-01"))] == [
        new.call_sid
    ]
    later = export("--since", "2026-02-01T00:00:01+00:00")
    assert json.loads(later) == []
    assert len(json.loads(export("--since", "2025-12-31"))) == 2
    with pytest.raises(CommandError, match="not a date"):
        export("--since", "last tuesday")


def test_it_masks_numbers_on_request(call: Any) -> None:
    [data] = json.loads(export("--mask"))
    assert data["from"] == "+1555•••4321"


def test_it_defuses_spreadsheet_formulas_but_keeps_numbers(assistant: Any) -> None:
    make_call(
        assistant=assistant, entries=[{"role": "caller", "text": "=HYPERLINK(1)"}]
    )
    [row] = csv.DictReader(io.StringIO(export("--format", "csv")))
    assert row["text"] == "'=HYPERLINK(1)"
    assert row["from"] == "+15557654321"


def test_it_reads_entries_in_chunks_not_per_call(assistant: Any) -> None:
    def queries_for(count: int) -> int:
        for _ in range(count):
            make_call(assistant=assistant, entries=CONVERSATION)
        queryset = exports.export_queryset()
        with CaptureQueriesContext(connection) as captured:
            dicts = list(
                exports.iter_call_dicts(
                    queryset, prices=pricing.Prices(), chunk_size=100
                )
            )
        assert all(len(d["transcript"]) == len(CONVERSATION) for d in dicts)
        return len(captured)

    # Calls, their entries, their assistant spans.
    assert queries_for(3) == queries_for(40) == 3


def test_it_streams_json_piece_by_piece(call: Any) -> None:
    calls: list[dict[str, Any]] = [{"a": 1}, {"b": "é"}]
    pieces = list(exports.iter_json(iter(calls)))
    assert pieces[0] == "["
    assert json.loads("".join(pieces)) == [{"a": 1}, {"b": "é"}]
    assert json.loads("".join(exports.iter_json([]))) == []
