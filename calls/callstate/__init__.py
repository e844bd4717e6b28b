"""The call state: one call's Twilio <-> engine state as a sans-I/O machine.

``CallState`` takes events (``on_twilio_text``, ``on_engine_text``,
``on_engine_open``, ``on_timer``, ``on_tool_result``, ``on_handoff``, ``hang_up``,
``transfer``...) with the time in ms and returns actions (``actions.SendTwilio``,
``SendEngine``, ``SaveTranscript``, ``EndCall``...) for its runner to perform. It
is a dispatcher over parts that own their state: ``media`` (start checks, caller
audio), ``session`` (the engine leg and the greeting), ``speech`` (assistant
audio, marks, barge-in), ``transcript``, ``tool_flow``, ``filler`` (a slow
tool's filler), ``keypad``, ``silence`` and ``ending`` (the goodbye, transfers,
the end), which read the call's shared facts through ``view``; it knows engines
only through ``calls.engines.base``.
No I/O, no asyncio, no Django.
"""

from __future__ import annotations

from calls.callstate import actions
from calls.callstate.actions import (
    Action,
    AddUsage,
    CallStarted,
    EndCall,
    OpenEngine,
    RunTool,
    SaveTranscript,
    SendEngine,
    SendTwilio,
    SetLatency,
    StartTimer,
    TranscriptDelta,
)
from calls.callstate.call import CallState
from calls.callstate.goodbye import GOODBYE_TIMEOUT_MS
from calls.callstate.media import DEFAULT_BUFFER_FRAMES
from calls.callstate.turns import (
    AssistantTurn,
    CallerTurn,
    b64_size,
    cut_transcript,
    mark_name,
)

__all__ = [
    "DEFAULT_BUFFER_FRAMES",
    "GOODBYE_TIMEOUT_MS",
    "Action",
    "AddUsage",
    "AssistantTurn",
    "CallStarted",
    "CallState",
    "CallerTurn",
    "EndCall",
    "OpenEngine",
    "RunTool",
    "SaveTranscript",
    "SendEngine",
    "SendTwilio",
    "SetLatency",
    "StartTimer",
    "TranscriptDelta",
    "actions",
    "b64_size",
    "cut_transcript",
    "mark_name",
]
