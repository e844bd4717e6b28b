"""Control and transcript events for live viewers, sent over the channel layer.

The media consumer publishes here after it has saved something; the live viewer
consumer (``calls.review.live``) relays the events to browsers. Audio never crosses the
channel layer. With ``REDIS_URL`` set, a viewer on one process sees calls handled
by any other.

Groups: ``LIVE_CALLS_GROUP`` gets one event per call state change; ``call_group(sid)``
gets that call's state changes and transcript entries.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer

from calls.runtime.bus.layer_failure import OutageLog

logger = logging.getLogger(__name__)
# One line per outage, not a traceback per failed publish.
_outage = OutageLog(logger, "live events are not reaching viewers")

LIVE_CALLS_GROUP = "calls.live"
CALL_EVENT = "live.call"  # handled by LiveCallsConsumer.live_call
TRANSCRIPT_EVENT = "live.transcript"  # handled by LiveCallsConsumer.live_transcript
DELTA_EVENT = "live.delta"  # handled by LiveCallsConsumer.live_delta


def call_group(call_sid: str) -> str:
    # Group names allow ASCII letters, digits, hyphens, underscores and periods.
    safe = "".join(
        ch for ch in call_sid if ch.isascii() and (ch.isalnum() or ch in "-_")
    )
    return f"call.{safe[:80]}"


async def publish_call(call: dict[str, Any], *, state: str) -> None:
    """Tell viewers a call started, changed or ended (``state``)."""
    message = {"type": CALL_EVENT, "state": state, "call": call}
    await _send(LIVE_CALLS_GROUP, message)
    await _send(call_group(call["call_sid"]), message)


async def publish_transcript(call_sid: str, entry: dict[str, Any]) -> None:
    """Tell the viewers of one call that a turn was written."""
    await _send(
        call_group(call_sid),
        {"type": TRANSCRIPT_EVENT, "call_sid": call_sid, "entry": entry},
    )


async def publish_delta(call_sid: str, seq: int, text: str) -> None:
    """Tell the viewers of one call the assistant's next words as generated (turn
    ``seq``; its ``transcript`` event later is final)."""
    await _send(
        call_group(call_sid),
        {"type": DELTA_EVENT, "call_sid": call_sid, "seq": seq, "text": text},
    )


async def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, message)
    except Exception as exc:
        # A live view is a convenience: losing it must never hurt the call.
        _outage.failed(exc)
    else:
        _outage.succeeded()


def call_payload(call: Any) -> dict[str, Any]:
    """The JSON a viewer gets for a call (a ``calls.models.Call``).

    Numbers (``transfer_to`` too) travel unmasked; the viewer consumer masks
    them per viewer.
    """
    return {
        "call_sid": call.call_sid,
        "status": call.status,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "assistant": (call.assistant_snapshot or {}).get("name", ""),
        "created_at": call.created_at.isoformat() if call.created_at else None,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "end_reason": call.end_reason,
        "outcome": call.outcome,
        # What an assistant did with the call (the call list's badges).
        "transfer_to": call.transfer_to,
        "transfer_status": call.transfer_status,
        "handoffs": call.handoffs,
    }


def entry_payload(entry: Any) -> dict[str, Any]:
    """The JSON a viewer gets for a transcript entry (``TranscriptEntry``).

    Tool rows (role ``tool``) also carry the tool's name, arguments (JSON text),
    status and duration; their ``text`` is the output or the error. Other rows
    keep the keys they always had.
    """
    payload = {
        "seq": entry.seq,
        "role": entry.role,
        "text": entry.text,
        "offset_ms": entry.offset_ms,
        "interrupted": entry.interrupted,
        "failed": entry.failed,
        "reply_latency_ms": entry.reply_latency_ms,
        "heard_latency_ms": entry.heard_latency_ms,
        # The engine's share (its end-of-speech event -> its first audio).
        "engine_latency_ms": getattr(entry, "engine_latency_ms", None),
    }
    if entry.role == "tool":  # calls.models.TranscriptRole.TOOL
        payload.update(
            tool_name=entry.tool_name,
            tool_arguments=entry.tool_arguments,
            tool_status=entry.tool_status,
            duration_ms=entry.duration_ms,
        )
    return payload
