"""A simulated Twilio for one call or many: signed webhooks, TwiML, media stream.

``TwilioCaller(CallerOptions(...)).run()`` returns a ``CallReport``: what was said
(``<Say>``), per-turn reply latency, marks and clears, frames, errors, and in echo
mode per-frame round trips. ``run_calls`` runs many concurrently; scripts are lists
of steps from ``script``. ``TwilioRestApi`` stands in for Twilio's REST API (hang up,
redirect, fetch a call) and acts on the simulated calls registered with it.
"""

from __future__ import annotations

from calls.tooling.simulators.twilio_caller.caller import (
    CallerOptions,
    TwilioCaller,
    run_calls,
    wav_audio,
)
from calls.tooling.simulators.twilio_caller.report import CallReport, TurnStats
from calls.tooling.simulators.twilio_caller.rest_api import (
    CallUpdate,
    RestRequest,
    TwilioRestApi,
)
from calls.tooling.simulators.twilio_caller.script import (
    BargeIn,
    Dtmf,
    HangUp,
    Hook,
    KeyPress,
    Pause,
    SendRaw,
    Speak,
    Step,
    WaitForAudio,
    WaitForReply,
    default_script,
    echo_script,
    parse_press,
)
from calls.tooling.simulators.twilio_caller.webhook import (
    new_sid,
    parse_twiml,
    sign,
    twiml_verbs,
)

__all__ = [
    "BargeIn",
    "CallReport",
    "CallUpdate",
    "CallerOptions",
    "Dtmf",
    "HangUp",
    "Hook",
    "KeyPress",
    "Pause",
    "RestRequest",
    "SendRaw",
    "Speak",
    "Step",
    "TurnStats",
    "TwilioCaller",
    "TwilioRestApi",
    "WaitForAudio",
    "WaitForReply",
    "default_script",
    "echo_script",
    "new_sid",
    "parse_press",
    "parse_twiml",
    "run_calls",
    "sign",
    "twiml_verbs",
    "wav_audio",
]
