"""The call bridge: per-call Twilio <-> Realtime state as a sans-I/O machine.

``CallBridge`` takes events (``on_twilio_text``, ``on_realtime_text``,
``on_realtime_open``, ``on_timer``...) with the time in ms and returns actions
(``actions.SendTwilio``, ``SendRealtime``, ``SaveTranscript``, ``EndCall``...) for
its runner to perform. No I/O, no asyncio, no Django.
"""

from __future__ import annotations

from calls.callstate import actions
from calls.callstate.actions import (
    Action,
    AddUsage,
    CallStarted,
    EndCall,
    SaveTranscript,
    SendRealtime,
    SendTwilio,
    SetLatency,
    StartTimer,
    ToolCall,
)
from calls.callstate.core import DEFAULT_BUFFER_FRAMES, GOODBYE_TIMEOUT_MS, CallBridge
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
    "CallBridge",
    "CallStarted",
    "CallerTurn",
    "EndCall",
    "SaveTranscript",
    "SendRealtime",
    "SendTwilio",
    "SetLatency",
    "StartTimer",
    "ToolCall",
    "actions",
    "b64_size",
    "cut_transcript",
    "mark_name",
]
