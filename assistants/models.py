"""Assistant personas and the phone numbers they answer.

An assistant is everything the bridge needs to configure a Realtime session:
instructions, voice, model and turn-taking. ``Assistant.snapshot()`` freezes those
settings onto each call, so editing a persona later never rewrites history.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q

from assistants.persona import (
    AZURE_REALTIME,
    DEFAULT_MODEL,
    DEFAULTS,
    OPENAI_REALTIME,
    Persona,
)

# Suggestions only: models come and go, so the field stays free text.
MODEL_SUGGESTIONS = (
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
    "gpt-realtime-mini",
)
TRANSCRIPTION_MODEL_SUGGESTIONS = (
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe",
    "gpt-transcribe",
    "whisper-1",
)

e164_validator = RegexValidator(
    regex=r"^\+[1-9]\d{1,14}$",
    message="Enter the number in E.164 form: a plus sign, then the country code "
    "and number with no spaces, e.g. +15550000001.",
)


class Voice(models.TextChoices):
    """The GA Realtime voices; a persona may only use one (``Voice.values``)."""

    ALLOY = "alloy"
    ASH = "ash"
    BALLAD = "ballad"
    CORAL = "coral"
    ECHO = "echo"
    SAGE = "sage"
    SHIMMER = "shimmer"
    VERSE = "verse"
    MARIN = "marin"
    CEDAR = "cedar"


class Engine(models.TextChoices):
    """The speech-to-speech engines (``calls.engines.registry``)."""

    OPENAI_REALTIME = OPENAI_REALTIME, "OpenAI Realtime (GA)"
    AZURE_REALTIME = AZURE_REALTIME, "Azure OpenAI Realtime (GA)"


def deployment_engine() -> str:
    """The engine for assistants that do not choose one: ``REALTIME_PROVIDER``'s.

    Deprecated path, kept so deployments configured with ``REALTIME_PROVIDER=azure``
    keep working; choose the engine on the assistant instead.
    """
    provider = getattr(settings, "REALTIME_PROVIDER", "openai")
    return AZURE_REALTIME if provider == "azure" else OPENAI_REALTIME


class TurnDetection(models.TextChoices):
    SERVER_VAD = "server_vad", "Server VAD (silence based)"
    SEMANTIC_VAD = "semantic_vad", "Semantic VAD (meaning based)"


class Eagerness(models.TextChoices):
    AUTO = "auto"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Assistant(models.Model):
    name = models.CharField(max_length=100, unique=True)
    instructions = models.TextField(
        blank=True,
        help_text="The system message: who the assistant is, what it may do, how "
        "it should speak. Sent to the model at the start of every call.",
    )
    greeting = models.TextField(
        blank=True,
        help_text="Optional. If set, the assistant speaks first and says this "
        "(in its own words) as soon as the call is connected.",
    )
    pre_connect_message = models.CharField(
        max_length=500,
        blank=True,
        help_text="Optional. Read out by Twilio's own text-to-speech before the "
        "assistant is connected, e.g. a recording notice.",
    )
    unavailable_message = models.CharField(
        max_length=500,
        default="Sorry, the assistant is not available right now. "
        "Please try again later. Goodbye.",
        help_text="Read out by Twilio if the assistant's connection fails or ends "
        "abnormally, before hanging up.",
    )
    engine = models.CharField(
        max_length=32,
        choices=Engine.choices,
        blank=True,
        help_text="The speech-to-speech engine that runs this assistant's calls. "
        "Empty: the deployment's default (REALTIME_PROVIDER, deprecated).",
    )
    voice = models.CharField(
        max_length=20,
        choices=Voice.choices,
        default=DEFAULTS.voice,
        help_text="The assistant's voice. marin and cedar sound the most natural.",
    )
    model = models.CharField(
        max_length=100,
        default=DEFAULT_MODEL,
        help_text="The Realtime model (for Azure, the deployment name). Free text, "
        "since models come and go; suggestions: " + ", ".join(MODEL_SUGGESTIONS) + ".",
    )
    temperature = models.FloatField(
        default=DEFAULTS.temperature,
        validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
        help_text="Sampling temperature, 0 to 2. Stored for providers that accept "
        "it. OpenAI's GA Realtime API has no temperature setting and rejects a "
        "session update that carries one, so it is NOT sent to OpenAI or Azure.",
    )
    turn_detection = models.CharField(
        max_length=20,
        choices=TurnDetection.choices,
        default=DEFAULTS.turn_detection,
        help_text="How the model decides the caller has finished speaking. Server "
        "VAD waits for a set silence; semantic VAD judges from what was said.",
    )
    vad_threshold = models.FloatField(
        "VAD threshold",
        default=DEFAULTS.vad_threshold,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Server VAD only. 0 to 1: higher needs louder speech to count, "
        "which helps in noisy places.",
    )
    vad_prefix_padding_ms = models.PositiveIntegerField(
        "VAD prefix padding (ms)",
        default=DEFAULTS.vad_prefix_padding_ms,
        validators=[MaxValueValidator(5000)],
        help_text="Server VAD only. Audio kept from before speech was detected.",
    )
    vad_silence_duration_ms = models.PositiveIntegerField(
        "VAD silence duration (ms)",
        default=DEFAULTS.vad_silence_duration_ms,
        validators=[MinValueValidator(100), MaxValueValidator(10000)],
        help_text="Server VAD only. Silence that ends the caller's turn. Shorter "
        "answers faster but may cut slow speakers off.",
    )
    vad_eagerness = models.CharField(
        "semantic VAD eagerness",
        max_length=10,
        choices=Eagerness.choices,
        default=DEFAULTS.vad_eagerness,
        help_text="Semantic VAD only. High answers sooner; low lets callers pause "
        "longer (up to 8 s).",
    )
    transcription_model = models.CharField(
        max_length=100,
        blank=True,
        default=DEFAULTS.transcription_model,
        help_text="Model that transcribes the caller for the call log. Leave empty "
        "to record only the assistant's side. Suggestions: "
        + ", ".join(TRANSCRIPTION_MODEL_SUGGESTIONS)
        + ".",
    )
    transcription_language = models.CharField(
        max_length=10,
        blank=True,
        help_text="Optional ISO-639-1 code of the callers' language (e.g. en, de). "
        "Improves transcription accuracy and speed.",
    )
    max_call_duration_seconds = models.PositiveIntegerField(
        "max call duration (s)",
        default=DEFAULTS.max_call_duration_seconds,
        validators=[MinValueValidator(30), MaxValueValidator(4 * 3600)],
        help_text="The assistant says goodbye and ends the call after this long.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive assistants answer no calls; their numbers are refused "
        "(or go to the fallback assistant).",
    )
    is_fallback = models.BooleanField(
        "fallback",
        default=False,
        help_text="Answers calls to numbers that are not configured here. At most "
        "one assistant can be the fallback.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_fallback"],
                condition=Q(is_fallback=True),
                name="one_fallback_assistant",
                violation_error_message="Another assistant is already the fallback.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_fallback and not self.is_active:
            raise ValidationError(
                {"is_fallback": "An inactive assistant cannot be the fallback."}
            )

    def persona(self) -> Persona:
        persona = Persona.from_attributes(self)
        return dataclasses.replace(persona, engine=self.engine or deployment_engine())

    def snapshot(self) -> dict[str, Any]:
        """The settings a call runs with, as plain JSON-ready data (``Persona``)."""
        return self.persona().to_snapshot()


class PhoneNumber(models.Model):
    number = models.CharField(
        max_length=16,
        unique=True,
        validators=[e164_validator],
        help_text="The Twilio number in E.164 form, e.g. +15550000001.",
    )
    label = models.CharField(
        max_length=100, blank=True, help_text="A name for staff, e.g. 'Front desk'."
    )
    assistant = models.ForeignKey(
        Assistant,
        on_delete=models.PROTECT,
        related_name="phone_numbers",
        help_text="The assistant that answers calls to this number.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Calls to an inactive number are refused (or go to the fallback).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "phone number"

    def __str__(self) -> str:
        return f"{self.number} ({self.label})" if self.label else self.number
