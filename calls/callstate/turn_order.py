"""Rows in the order they were spoken, when a caller turn's start is known late.

No Django.
"""

from __future__ import annotations

from collections.abc import Iterable

from calls.callstate.turns import AssistantTurn, CallerTurn


def in_spoken_order(
    turn: CallerTurn, recent: Iterable[CallerTurn | AssistantTurn]
) -> None:
    """A caller turn that began before turns already given a place (its
    start is known late, from an engine whose transcripts lag the audio)
    takes the place of the earliest of them whose row is not written yet;
    they each move one place on, so rows are in the order they were spoken.
    Only when they are the last places given: a row between them (a tool
    call, a system note) keeps its place and so do they."""
    later = [
        t
        for t in recent
        if not t.written and t.offset_ms > turn.offset_ms and t.seq < turn.seq
    ]
    if not later:
        return
    later.sort(key=lambda t: t.seq)
    places = [t.seq for t in later] + [turn.seq]
    if places != list(range(places[0], turn.seq + 1)):
        return
    turn.seq = places[0]
    for moved, seq in zip(later, places[1:], strict=True):
        moved.seq = seq
