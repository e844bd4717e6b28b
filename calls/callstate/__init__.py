"""The call state: one call's Twilio <-> engine state as a sans-I/O machine.

``CallState`` takes events (``on_twilio_text``, ``on_engine_text``,
``on_engine_open``, ``on_timer``, ``on_tool_result``, ``on_handoff``, ``hang_up``,
``transfer``...) with the time in ms and returns actions (``actions.SendTwilio``,
``SendEngine``, ``SaveTranscript``, ``EndCall``...) for its runner to perform. It
is composed of ``playback.TwilioPlayback``, ``transcript.Transcript``,
``responses.Responses``, ``tool_calls.ToolCalls`` (function calls owed an answer)
and ``silence.SilenceClock``, and knows engines only through ``calls.engines.base``.
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
from calls.callstate.call import DEFAULT_BUFFER_FRAMES, GOODBYE_TIMEOUT_MS, CallState
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
