"""What a call came to for the people running the line, apart from Twilio's status.

Twilio's ``completed`` says the phone call connected and ended; it says nothing
about whether the assistant worked. ``call_outcome`` derives the outcome from the
end reason and the status (plus, where they decide it, the direction, whether the
media stream ever started, whether an error was recorded and Twilio's
``AnsweredBy``). It is the one place that decides: ``calls.services`` stores its
answer when a call ends, and the data migration ``0004`` uses it for old rows.

Pure: no Django, no database. The outcome values are ``calls.models``'
``CallOutcome`` values (a test keeps them equal); the end reasons are
``end_reasons``'.
"""

from __future__ import annotations

from calls.vocabulary import end_reasons as r

# Outcomes (``calls.models.CallOutcome``); "" while the call is still going.
ANSWERED = "answered"
FAILED = "failed"
REJECTED = "rejected"
UNANSWERED = "unanswered"
VOICEMAIL = "voicemail"
PENDING = ""

# The assistant took part and the call ended the way calls are meant to end:
# the assistant saying goodbye and hanging up, or giving up on a silent caller,
# is the assistant doing its job, not failing at it.
NORMAL_END_REASONS = frozenset(
    {
        r.CALLER_HUNG_UP,
        r.MAX_DURATION,
        r.HUNG_UP_BY_STAFF,
        r.TRANSFERRED,
        r.ASSISTANT_ENDED,
        r.SILENCE_TIMEOUT,
    }
)
# The assistant could not do its job: the engine refused or dropped the session,
# the stream could not be trusted, or our own server lost or cut the call.
FAILED_END_REASONS = frozenset(
    {
        r.ENGINE_ERROR,
        r.ENGINE_DISCONNECTED,
        r.SESSION_EXPIRED,
        r.AUTH_FAILED,
        r.SERVER_SHUTDOWN,
        r.PROCESS_LOST,
        r.NO_STREAM,
    }
)
# Twilio's statuses for a call nobody picked up (or that was dropped before).
UNANSWERED_STATUSES = frozenset({"busy", "no-answer", "canceled"})
LIVE_STATUSES = frozenset({"queued", "ringing", "in-progress"})


def call_outcome(
    *,
    end_reason: str,
    status: str,
    direction: str = "inbound",
    streamed: bool = True,
    error: str = "",
    answered_by: str = "",
) -> str:
    """The outcome of a call with these facts; ``PENDING`` ("") while it runs.

    ``streamed``: the media stream started (``Call.started_at`` is set).
    ``answered_by``: Twilio's answering-machine detection for outbound calls
    (``human``, ``machine_start``, ``fax``, ...), if it ran.
    """
    outbound = direction != "inbound"
    if end_reason == r.REJECTED or (status == "rejected" and not outbound):
        return REJECTED
    if outbound and answered_by.startswith(("machine", "fax")):
        return VOICEMAIL
    if status in UNANSWERED_STATUSES or (status == "rejected" and outbound):
        return UNANSWERED  # Twilio's word: nobody picked up, whatever else said
    if status == "failed":
        return FAILED  # Twilio could not complete the call at all
    if end_reason in NORMAL_END_REASONS:
        return ANSWERED
    if end_reason in FAILED_END_REASONS:
        return FAILED
    if end_reason == r.STREAM_CLOSED:
        # Twilio's socket closed without a ``stop``: a caller hanging up can do
        # that; an error recorded with it (our bug, no start frame) cannot.
        return FAILED if error else ANSWERED
    if not end_reason and status in LIVE_STATUSES:
        return PENDING
    ended_by_twilio = end_reason in ("", r.STATUS_CALLBACK)
    if ended_by_twilio and status == "completed" and streamed and not error:
        # Ended per Twilio's callback after the stream ran: nothing went wrong
        # that the stream noticed.
        return ANSWERED
    # Completed without the assistant ever streaming, Twilio's ``failed``, or an
    # end reason this function does not know: not a call that worked.
    return FAILED
