"""OpenAI's Realtime API (GA), with its Azure variant: the first engine.

``events`` builds what we send (the session from a ``Persona``); ``parser`` reads
what we receive into the dataclasses of ``server_events``; ``protocol`` is the
``EngineProtocol`` that maps both onto the engine-neutral interface; ``engine``
says where to connect; ``websockets_client`` and ``picows_client`` open the leg
(``connector`` picks one); ``spec`` declares the engine and its Azure flavour to
the registry. No Django.
"""

from __future__ import annotations

from calls.engines.openai_realtime.connector import CLIENTS, connector
from calls.engines.openai_realtime.engine import (
    AZURE_NAME,
    NAME,
    AzureRealtimeEngine,
    OpenAIRealtimeEngine,
    auth_headers,
    build_url,
)
from calls.engines.openai_realtime.events import (
    AUDIO_FORMAT,
    INPUT_AUDIO_APPEND,
    ITEM_CREATE,
    ITEM_TRUNCATE,
    RESPONSE_CANCEL,
    RESPONSE_CREATE,
    SESSION_UPDATE,
    SESSION_UPDATE_EVENT_ID,
    audio_append,
    function_call_output,
    item_truncate,
    response_cancel,
    response_create,
    session_config,
    session_update,
    turn_detection,
)
from calls.engines.openai_realtime.limits import MAX_MESSAGE_BYTES
from calls.engines.openai_realtime.parser import parse, usage_fields
from calls.engines.openai_realtime.protocol import RealtimeProtocol
from calls.engines.openai_realtime.server_events import (
    FATAL_ERROR_CODES,
    AudioDone,
    AudioOut,
    AudioTranscriptDone,
    Committed,
    Error,
    EventError,
    FunctionCallArgumentsDone,
    InputTranscriptCompleted,
    InputTranscriptFailed,
    ItemTruncated,
    Other,
    OutputItemAdded,
    ResponseCreated,
    ResponseDone,
    ServerEvent,
    SessionUpdated,
    SpeechStarted,
    SpeechStopped,
)
from calls.engines.openai_realtime.spec import AZURE_SPEC, SPEC
from calls.engines.openai_realtime.websockets_client import (
    WebsocketsConnection,
    connect,
)

__all__ = [
    "AUDIO_FORMAT",
    "AZURE_NAME",
    "AZURE_SPEC",
    "CLIENTS",
    "FATAL_ERROR_CODES",
    "INPUT_AUDIO_APPEND",
    "ITEM_CREATE",
    "ITEM_TRUNCATE",
    "MAX_MESSAGE_BYTES",
    "NAME",
    "RESPONSE_CANCEL",
    "RESPONSE_CREATE",
    "SESSION_UPDATE",
    "SESSION_UPDATE_EVENT_ID",
    "SPEC",
    "AudioDone",
    "AudioOut",
    "AudioTranscriptDone",
    "AzureRealtimeEngine",
    "Committed",
    "Error",
    "EventError",
    "FunctionCallArgumentsDone",
    "InputTranscriptCompleted",
    "InputTranscriptFailed",
    "ItemTruncated",
    "OpenAIRealtimeEngine",
    "Other",
    "OutputItemAdded",
    "RealtimeProtocol",
    "ResponseCreated",
    "ResponseDone",
    "ServerEvent",
    "SessionUpdated",
    "SpeechStarted",
    "SpeechStopped",
    "WebsocketsConnection",
    "audio_append",
    "auth_headers",
    "build_url",
    "connect",
    "connector",
    "function_call_output",
    "item_truncate",
    "parse",
    "response_cancel",
    "response_create",
    "session_config",
    "session_update",
    "turn_detection",
    "usage_fields",
]
