"""The TwiML documents our Twilio webhooks answer with, built with Twilio's helper.

``connect_stream`` is the normal answer: an optional notice read by Twilio, then
``<Connect action=...><Stream url="wss://.../twilio/media-stream/<token>/"/>``. When
our server closes the stream, Twilio requests the ``action`` URL (the stream-ended
webhook) and runs what it returns: ``stream_ended`` apologises only when the call
ended on an error, and just hangs up after a normal goodbye. Because of ``action``,
nothing placed after ``</Connect>`` would ever run, so nothing is.

Reference: https://www.twilio.com/docs/voice/twiml/connect
"""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, VoiceResponse

NOT_IN_SERVICE_MESSAGE = (
    "Sorry, this number is not in service. Please check the number and try again. "
    "Goodbye."
)


def connect_stream(
    *, stream_url: str, action_url: str, pre_connect_message: str
) -> str:
    """Say the optional notice, then connect the call to our media stream."""
    response = VoiceResponse()
    if pre_connect_message:
        response.say(pre_connect_message)
    connect = Connect(action=action_url)
    # The call's token is in the URL path: Twilio does not support query strings
    # on stream URLs.
    connect.stream(url=stream_url)
    response.append(connect)
    return str(response)


def reject(message: str = NOT_IN_SERVICE_MESSAGE) -> str:
    """Tell the caller nobody answers here, then hang up."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def stream_ended(*, apology: str) -> str:
    """After the stream: say ``apology`` (if any), then hang up."""
    response = VoiceResponse()
    if apology:
        response.say(apology)
    response.hangup()
    return str(response)


def transfer(*, to: str, caller_id: str, action_url: str = "") -> str:
    """After the stream: connect the caller to ``to``, showing ``caller_id``.

    ``caller_id`` is the number the caller dialled (one of ours, so Twilio
    accepts it as the caller ID). With ``action_url`` Twilio posts the dial's
    outcome there (``DialCallStatus``) and runs its answer: hang up after a
    conversation, or back to the assistant when nobody answered.
    """
    response = VoiceResponse()
    options: dict[str, str] = {}
    if caller_id:
        options["caller_id"] = caller_id
    if action_url:
        options.update(action=action_url, method="POST")
    response.dial(to, **options)
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
