"""A turn's latency figures land on its own row, on every stream of a call."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import TranscriptEntry
from calls.services.routing import call_route
from calls.services.transcript import transcript_entry_add, transcript_entry_set_latency

pytestmark = pytest.mark.django_db
CALL_SID = "CA" + "6" * 32


def test_a_later_stream_reusing_an_item_id_keeps_the_earlier_figures(
    phone_number: Any,
) -> None:
    call_route(call_sid=CALL_SID, from_number="+15557654321", to_number="+15550000001")
    # GPT-Live numbers its turns per session: the second stream's first turn has
    # the first stream's item id.
    for seq, heard in ((2, 900), (12, None)):
        transcript_entry_add(
            call_sid=CALL_SID,
            seq=seq,
            role="assistant",
            text="Words.",
            item_id="live_item_1",
            heard_latency_ms=heard,
        )
    changed = transcript_entry_set_latency(
        call_sid=CALL_SID, item_id="live_item_1", heard_latency_ms=1_100
    )
    assert changed == 1
    rows = TranscriptEntry.objects.filter(call__call_sid=CALL_SID).order_by("seq")
    assert [r.heard_latency_ms for r in rows] == [900, 1_100]
