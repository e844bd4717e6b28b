"""What one simulated call observed: the report ``simulate_call`` prints and tests read.

Times are milliseconds from the moment the media stream opened. Echo-mode fields
(``rtts_ms``, ``frames_lost``...) are filled when the caller tags its frames.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class TurnStats:
    """One caller turn: when the caller spoke and how long the reply took."""

    index: int
    speech_start_ms: float
    # When the caller's last speech audio ended: its last speech frame went out
    # (a frame carries the 20 ms captured before it is sent, as Twilio's do).
    speech_end_ms: float | None = None
    barge_in: bool = False
    # End of the caller's speech -> first assistant audio frame received.
    reply_latency_ms: float | None = None
    # End of the caller's speech -> the first mark echoed after that audio
    # arrived (it played): what the server's "heard" latency should match.
    heard_latency_ms: float | None = None


@dataclass
class CallReport:
    call_sid: str = ""
    stream_sid: str = ""
    account_sid: str = ""
    webhook_status: int | None = None
    twiml: str = ""
    says: list[str] = field(default_factory=list)  # <Say> texts, in order heard
    stream_url: str = ""
    custom_parameters: dict[str, str] = field(default_factory=dict)
    handshake_status: int | None = None  # HTTP status if the upgrade was refused
    turns: list[TurnStats] = field(default_factory=list)
    marks_returned: list[str] = field(default_factory=list)
    clears: int = 0
    clear_times_ms: list[float] = field(default_factory=list)
    dtmf_sent: list[str] = field(default_factory=list)
    frames_sent: int = 0
    frames_received: int = 0
    audio_bytes_received: int = 0
    audio_bytes_played: int = 0
    audio_bytes_cleared: int = 0
    first_audio_ms: float | None = None  # the first assistant frame (the greeting)
    errors: list[str] = field(default_factory=list)
    # Who ended the stream: "caller" (sent stop), "server" (closed the socket) or
    # "rest" (a REST update of the call: hang-up or redirect).
    hung_up_by: str = ""
    close_code: int | None = None
    close_reason: str = ""
    duration_ms: float = 0.0
    # What Twilio ran after the stream: the <Connect action> answer, or the TwiML a
    # REST redirect gave the live call. Verbs as ``webhook.twiml_verbs`` lists them.
    next_twiml: str = ""
    next_twiml_from: str = ""  # "connect-action", "rest-twiml" or "rest-url"
    after_stream: list[tuple[str, ...]] = field(default_factory=list)
    said_after_stream: list[str] = field(default_factory=list)
    dialed: str = ""  # the first <Dial>'s number (or client:/sip:/conference: noun)
    dial_caller_id: str = ""
    hung_up_by_twiml: bool = False
    # A transfer's <Dial action>: the DialCallStatus posted and the TwiML answer.
    dial_status: str = ""
    dial_action_twiml: str = ""
    stream_sids: list[str] = field(default_factory=list)  # one per stream opened
    # REST updates of the live call the simulator acted on: "completed", "twiml"...
    rest_updates: list[str] = field(default_factory=list)
    max_send_lag_ms: float = 0.0  # how far the 20 ms schedule ever fell behind
    # Echo mode: tagged frames out and back.
    tagged_sent: int = 0
    tagged_received: int = 0
    foreign_frames: int = 0  # tagged by another call: audio crossed streams
    rtts_ms: list[float] = field(default_factory=list)

    @property
    def reply_latencies_ms(self) -> list[float]:
        return [
            t.reply_latency_ms for t in self.turns if t.reply_latency_ms is not None
        ]

    @property
    def frames_lost(self) -> int:
        return max(0, self.tagged_sent - self.tagged_received)

    @property
    def audio_ms_played(self) -> int:
        return self.audio_bytes_played // 8

    @property
    def ok(self) -> bool:
        return not self.errors

    def rtt_summary(self) -> dict[str, float]:
        """min/median/p95/max of the echo round trips, in ms (empty if none)."""
        if not self.rtts_ms:
            return {}
        ordered = sorted(self.rtts_ms)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        return {
            "min": ordered[0],
            "median": statistics.median(ordered),
            "p95": p95,
            "max": ordered[-1],
        }
