"""Calls and their transcripts.

A ``Call`` is created by the voice webhook, carries a frozen copy of the assistant's
settings, and is finalised when the stream or Twilio's status callback says it ended.
Its transcript is stored as one ``TranscriptEntry`` row per turn, written as the call
goes, ordered by ``seq`` (conversation order, not arrival order).
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from assistants.models import Assistant, PhoneNumber
from calls.privacy.masking import mask_number
from calls.vocabulary import outcomes


class CallStatus(models.TextChoices):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"
    REJECTED = "rejected"


# Twilio's statuses after which nothing more happens on a call.
FINAL_STATUSES = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.FAILED,
        CallStatus.NO_ANSWER,
        CallStatus.CANCELED,
        CallStatus.REJECTED,
    }
)


class CallDirection(models.TextChoices):
    INBOUND = "inbound"
    OUTBOUND_API = "outbound-api"
    OUTBOUND_DIAL = "outbound-dial"


class EndReason(models.TextChoices):
    CALLER_HUNG_UP = "caller_hung_up", "Caller hung up"
    MAX_DURATION = "max_duration", "Max call duration reached"
    # Any engine's failures: values from before the engine interface, labels
    # that name no engine (``calls.vocabulary.end_reasons.LABELS``).
    REALTIME_ERROR = "realtime_error", "Voice engine error"
    REALTIME_DISCONNECTED = "realtime_disconnected", "Voice engine connection dropped"
    SESSION_EXPIRED = "session_expired", "Voice engine session expired"
    STREAM_CLOSED = "stream_closed", "Media stream closed"
    REJECTED = "rejected", "Number not configured"
    AUTH_FAILED = "auth_failed", "Stream authentication failed"
    SERVER_SHUTDOWN = "server_shutdown", "Server shut down"
    STATUS_CALLBACK = "status_callback", "Ended per Twilio status callback"
    HUNG_UP_BY_STAFF = "hung_up_by_staff", "Hung up by staff"
    TRANSFERRED = "transferred", "Transferred to a person"
    PROCESS_LOST = "process_lost", "Server process lost the call"
    NO_STREAM = "no_stream", "Media stream never opened"
    ASSISTANT_ENDED = "assistant_ended", "Assistant ended the call"
    SILENCE_TIMEOUT = "silence_timeout", "Caller silent too long"


class CallOutcome(models.TextChoices):
    """What the call came to (``calls.vocabulary.outcomes.call_outcome`` decides)."""

    ANSWERED = outcomes.ANSWERED, "Answered"
    FAILED = outcomes.FAILED, "Failed"
    REJECTED = outcomes.REJECTED, "Rejected"
    UNANSWERED = outcomes.UNANSWERED, "Unanswered"
    VOICEMAIL = outcomes.VOICEMAIL, "Voicemail"


class Call(models.Model):
    call_sid = models.CharField("CallSid", max_length=64, unique=True)
    stream_sid = models.CharField("StreamSid", max_length=64, blank=True)
    direction = models.CharField(
        max_length=20, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    from_number = models.CharField("from", max_length=32, blank=True)
    to_number = models.CharField("to", max_length=32, blank=True)
    phone_number = models.ForeignKey(
        PhoneNumber,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    assistant = models.ForeignKey(
        Assistant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    assistant_snapshot = models.JSONField(
        default=dict,
        blank=True,
        help_text="The assistant's settings when the call started.",
    )
    status = models.CharField(
        max_length=20, choices=CallStatus.choices, default=CallStatus.RINGING
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the media stream started."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    outcome = models.CharField(
        max_length=16,
        choices=CallOutcome.choices,
        blank=True,
        db_index=True,
        help_text="What the call came to: answered by the assistant, failed, "
        "rejected, unanswered or voicemail. Empty while the call is in progress. "
        "Twilio's status only says whether the phone call connected.",
    )
    error = models.TextField(blank=True)
    stream_claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the stream token was used; a token works once.",
    )
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life from the server process running the stream; "
        "`manage.py calls close-stale` finalises calls whose process went quiet.",
    )
    transfer_to = models.CharField(
        "transferred to",
        max_length=32,
        blank=True,
        help_text="The number the call was transferred to (E.164), if it was.",
    )
    ended_by = models.CharField(
        max_length=150,
        blank=True,
        help_text="Who ended or transferred the call from outside it (a staff "
        "user, or the command line), if anybody did.",
    )
    bad_frames = models.PositiveIntegerField(
        default=0, help_text="Malformed or unexpected messages ignored during the call."
    )
    transfer_status = models.CharField(
        max_length=16,
        blank=True,
        help_text="How the transfer's <Dial> ended, as Twilio reported it "
        "(DialCallStatus: completed, answered, busy, no-answer, failed, canceled).",
    )
    streams = models.PositiveSmallIntegerField(
        default=0,
        help_text="Media streams the call had: more than one when the caller came "
        "back to the assistant (a transfer nobody answered).",
    )
    handoffs = models.PositiveSmallIntegerField(
        default=0, help_text="Times the conversation was handed to another assistant."
    )
    recording_purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recording was deleted (retention)."
    )
    transcript_purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the transcript was deleted (retention)."
    )
    purge_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="What was deleted and why (retention, a caller's request).",
    )
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    input_text_tokens = models.PositiveIntegerField(default=0)
    input_audio_tokens = models.PositiveIntegerField(default=0)
    cached_text_tokens = models.PositiveIntegerField(default=0)
    cached_audio_tokens = models.PositiveIntegerField(default=0)
    output_text_tokens = models.PositiveIntegerField(default=0)
    output_audio_tokens = models.PositiveIntegerField(default=0)
    session_seconds = models.PositiveIntegerField(
        default=0,
        help_text="Billed seconds of engine session, for engines billed by time "
        "rather than tokens (OpenAI GPT-Live); 0 for token-billed engines.",
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_caller_number", "Can see callers' full phone numbers"),
            ("control_call", "Can hang up and transfer calls in progress"),
            ("export_call", "Can download calls and transcripts"),
            ("view_live_call", "Can follow calls in progress live"),
            ("listen_live_call", "Can listen in to calls in progress"),
            ("listen_recording", "Can play and download call recordings"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["assistant", "-created_at"]),
        ]

    def __str__(self) -> str:
        # Masked like the pages mask it for most viewers: the other party's number
        # (the caller on inbound calls, the callee on outbound ones).
        if self.direction == CallDirection.INBOUND:
            return f"{self.call_sid} from {mask_number(self.from_number)}"
        return f"{self.call_sid} to {mask_number(self.to_number)}"

    def get_absolute_url(self) -> str:
        return reverse("calls:detail", args=[self.call_sid])

    def derived_outcome(self) -> str:
        """The outcome these fields give (``outcomes.call_outcome``)."""
        return outcomes.call_outcome(
            end_reason=self.end_reason,
            status=self.status,
            direction=self.direction,
            streamed=self.started_at is not None,
            error=self.error,
        )

    @property
    def is_live(self) -> bool:
        return self.ended_at is None and self.status in (
            CallStatus.IN_PROGRESS,
            CallStatus.RINGING,
            CallStatus.QUEUED,
        )


class TranscriptRole(models.TextChoices):
    CALLER = "caller"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class TranscriptEntry(models.Model):
    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="transcript_entries"
    )
    seq = models.PositiveIntegerField(help_text="Position in the conversation.")
    role = models.CharField(max_length=10, choices=TranscriptRole.choices)
    text = models.TextField(blank=True)
    item_id = models.CharField(
        max_length=64, blank=True, help_text="The Realtime conversation item."
    )
    offset_ms = models.PositiveIntegerField(
        default=0, help_text="When the turn started, in ms from the stream's start."
    )
    interrupted = models.BooleanField(
        default=False,
        help_text="The caller cut the assistant off; the text is what was heard.",
    )
    failed = models.BooleanField(
        default=False, help_text="The caller's speech could not be transcribed."
    )
    reply_latency_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Caller stopped speaking (their last audio reached us) -> first "
        "assistant audio sent to Twilio.",
    )
    heard_latency_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Caller stopped speaking (their last audio reached us) -> Twilio "
        "confirmed the first audio played (mark echo). The headline latency.",
    )
    engine_latency_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The engine's share: its end-of-speech event (VAD speech_stopped) "
        "reached us -> its first assistant audio reached us.",
    )
    # Tool rows (role "tool"): ``text`` holds the output, or the error.
    tool_name = models.CharField(max_length=64, blank=True)
    tool_arguments = models.TextField(
        blank=True, help_text="The arguments the model gave, as JSON."
    )
    tool_status = models.CharField(
        max_length=16,
        blank=True,
        choices=[("ok", "ok"), ("error", "error"), ("timeout", "timeout")],
    )
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long the tool took."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "seq"]
        verbose_name_plural = "transcript entries"
        constraints = [
            models.UniqueConstraint(fields=["call", "seq"], name="unique_call_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.seq}: {self.text[:40]}"


class CallAssistant(models.Model):
    """Which assistant handled a call from when: one row at the start, one per
    handoff."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="assistant_spans"
    )
    assistant = models.ForeignKey(
        Assistant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=100, help_text="The assistant's name then.")
    offset_ms = models.PositiveIntegerField(
        default=0, help_text="From the first stream's start, in ms."
    )
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["call", "offset_ms", "id"]

    def __str__(self) -> str:
        return f"{self.name} from {self.offset_ms} ms"


def recordings_storage():  # type: ignore[no-untyped-def]
    """``STORAGES["recordings"]``: local files under MEDIA_ROOT by default, an
    S3-compatible bucket when configured (settings)."""
    from django.core.files.storage import storages

    return storages["recordings"]


class Recording(models.Model):
    """A call's two-channel recording: caller left, assistant (as heard) right."""

    call = models.OneToOneField(
        Call, on_delete=models.CASCADE, related_name="recording"
    )
    file = models.FileField(upload_to="recordings/%Y/%m/", storage=recordings_storage)
    format = models.CharField(max_length=32, default="wav")
    channels = models.PositiveSmallIntegerField(default=2)
    sample_rate = models.PositiveIntegerField(default=8000)
    duration_ms = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"recording of {self.call_id}"


class RecordingAccess(models.Model):
    """Who played or downloaded a recording, and when."""

    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="accesses"
    )
    user = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150)
    range = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "recording accesses"

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}"


class ForgetRequest(models.Model):
    """A data-subject request: everything of one phone number deleted."""

    number_masked = models.CharField(max_length=32)
    number_hash = models.CharField(
        max_length=64,
        help_text="A keyed hash (HMAC-SHA256) of the number, to answer 'was it done?'",
    )
    requested_by = models.CharField(max_length=150)
    calls = models.PositiveIntegerField(default=0)
    recordings = models.PositiveIntegerField(default=0)
    transcript_entries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"forget {self.number_masked} ({self.requested_by})"
