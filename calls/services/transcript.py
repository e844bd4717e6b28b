"""A call's transcript: each finished turn or tool row, and its latency figures
once they are known."""

from __future__ import annotations

from calls.models import Call, TranscriptEntry

# The engine's share of reply latency is stored once the field exists (added by
# issue 9's schema migration; until then the figure is measured but not kept).
_HAS_ENGINE_LATENCY = any(
    f.name == "engine_latency_ms" for f in TranscriptEntry._meta.get_fields()
)


def transcript_entry_add(
    *,
    call_sid: str,
    seq: int,
    role: str,
    text: str,
    item_id: str = "",
    offset_ms: int = 0,
    interrupted: bool = False,
    failed: bool = False,
    reply_latency_ms: int | None = None,
    heard_latency_ms: int | None = None,
    engine_latency_ms: int | None = None,
    tool_name: str = "",
    tool_arguments: str = "",
    tool_status: str = "",
    duration_ms: int | None = None,
) -> TranscriptEntry:
    """Write one finished turn. A repeat of the same ``seq`` updates it instead.

    Latency: caller stopped speaking (their last audio reached us) -> first
    assistant audio sent (``reply``) / confirmed played (``heard``); the engine's
    share (its end-of-speech event -> its first audio) is ``engine``.
    """
    call_id = Call.objects.values_list("pk", flat=True).get(call_sid=call_sid)
    defaults: dict[str, object] = {
        "role": role,
        "text": text,
        "item_id": item_id[:64],
        "offset_ms": max(0, offset_ms),
        "interrupted": interrupted,
        "failed": failed,
        "reply_latency_ms": reply_latency_ms,
        "heard_latency_ms": heard_latency_ms,
    }
    if _HAS_ENGINE_LATENCY:
        defaults["engine_latency_ms"] = engine_latency_ms
    if tool_name:  # a tool row (role "tool"): ``text`` is its output or error
        defaults.update(
            tool_name=tool_name[:64],
            tool_arguments=tool_arguments,
            tool_status=tool_status[:16],
            duration_ms=duration_ms,
        )
    entry, _ = TranscriptEntry.objects.update_or_create(
        call_id=call_id, seq=seq, defaults=defaults
    )
    return entry


def transcript_entry_set_latency(
    *,
    call_sid: str,
    item_id: str,
    reply_latency_ms: int | None = None,
    heard_latency_ms: int | None = None,
    engine_latency_ms: int | None = None,
) -> int:
    """Fill in a turn's latency figures once they are known; returns rows changed.

    The turn is the call's latest row with ``item_id``: a later stream of the
    call may reuse an engine's item ids (GPT-Live numbers its turns per
    session), and must not rewrite an earlier stream's figures.
    """
    changes: dict[str, int] = {}
    if reply_latency_ms is not None:
        changes["reply_latency_ms"] = reply_latency_ms
    if heard_latency_ms is not None:
        changes["heard_latency_ms"] = heard_latency_ms
    if engine_latency_ms is not None and _HAS_ENGINE_LATENCY:
        changes["engine_latency_ms"] = engine_latency_ms
    if not changes:
        return 0
    latest = (
        TranscriptEntry.objects.filter(call__call_sid=call_sid, item_id=item_id)
        .order_by("-seq")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return 0
    return TranscriptEntry.objects.filter(pk=latest).update(**changes)
