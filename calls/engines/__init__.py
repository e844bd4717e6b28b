"""Speech-to-speech engines behind one interface.

The call state (``calls.callstate``) never sees an engine's wire format. It talks
to an engine through two things, both defined in ``calls.engines.base``:

- **Events** (``base.EngineEvent``): what the engine heard or said, engine-neutral.
  Assistant audio out with its item identity (``AudioOut``, ``AudioOutDone``,
  ``AssistantItemStarted``), the caller's speech (``SpeechStarted``,
  ``SpeechStopped``, ``CallerInputCommitted``), transcripts (``CallerTranscript``,
  ``CallerTranscriptFailed``, ``AssistantTranscript``, and the assistant's words
  as they are generated, ``AssistantTranscriptDelta``), responses
  (``ResponseStarted``, ``ResponseDone`` with usage already mapped onto the call's
  token counters), ``UsageReported`` (usage outside any response, e.g. billed
  session seconds, as increments), ``ToolCallRequested``, ``SessionConfigured``,
  ``EngineError`` and ``Ignored``; ``EngineEvents`` carries several of them from
  one message, handled in order (an engine that infers its turns may close one
  and open the next). The leg closing is reported by the runner, not as an event.
- **A protocol** (``base.EngineProtocol``): one per call, sans I/O, built from the
  call's ``Persona``. It parses each message from the engine into one event and
  encodes each request of the call state into the text to send: configure the
  session from the persona (with its functions, ``calls.engines.tools``),
  reconfigure it for a handoff (another persona's instructions and functions,
  same voice), append caller audio, request a response with
  instructions (tagged, so an error can say which request it refused), truncate
  an item at N ms of audio, cancel, pass a note that is not speech (a keypad
  digit: ``caller_note``), send a tool result. Commands an engine may not have
  (``truncate``, ``cancel``, ``caller_note``, ``tool_result``, ``configure``)
  return a list of messages, empty if there is nothing to send.
  ``waits_for_session`` says the engine takes nothing but its configuration until
  it confirms the session (``SessionConfigured``): the call state holds caller
  audio and the greeting until then.

An **engine** (``base.Engine``) adds the I/O side: where to connect (URL and
headers from ``EngineSettings``) and the WebSocket client that opens a leg
(``EngineConnection``: send text, iterate messages, close, close code/reason).

What an engine must guarantee:

1. ``parse`` never raises anything but ``EngineEventError`` (garbage from the peer
   is counted and ignored by the call state) and returns ``Ignored`` for valid
   messages it does not use, so new server events are harmless.
2. Audio is G.711 mu-law at 8 kHz, base64, both ways, so Twilio's payloads pass
   through without decoding; ``AudioOut.json_safe`` is true only when the payload
   can be concatenated into JSON as is.
3. Every ``AudioOut`` names an item; the same item id is used by
   ``AudioOutDone``, ``AssistantTranscript`` and ``truncate``. ``ResponseStarted``
   comes in the order our ``request_response`` calls were sent (that is how the
   call state tells its greeting and goodbye from the model's own answers).
4. ``EngineError.kind`` classifies errors: ``fatal`` (the session cannot go on),
   ``expired`` (session time limit), ``config_rejected`` (our configuration was
   refused), ``benign`` (a race that means nothing) or ``other``; ``tag`` names
   the request of ours it refused, if any.
5. The protocol and events import no Django and do no I/O; the connection is the
   only code that touches a socket.

Each engine package also declares its **spec** (``spec.EngineSpec``): its name
and label, voices, models and transcription models, the deployment settings it
connects with (by name), how it bills (tokens, or session seconds) and what it
can do (VAD settings, caller transcription, cancel). The admin's choices, the
assistants' checks (``validation``), pricing and the runner's settings read the
spec through ``registry``.

A new engine is one package here (its protocol, parser, session builder, client
and spec) plus its spec in ``registry.SPECS``; the persona's ``engine`` picks it.
Nothing in the Twilio side, the transcript logic, the call log or the pages
changes. ``openai_realtime`` (OpenAI's GA Realtime API, with its Azure variant)
is the first; ``openai_live`` (GPT-Live, whose items are inferred from continuous
audio and timed transcript deltas, as guarantee 3 requires) the second.
"""
