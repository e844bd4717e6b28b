"""Assistant personas and the phone numbers they answer.

An assistant is everything a call needs to configure its engine's session:
instructions, engine, voice, model and turn-taking (what each engine takes is
its spec's, ``calls.engines.registry``). ``Assistant.snapshot()`` freezes those
settings onto each call, so editing a persona later never rewrites history.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import Q

from assistants import tool_validators, webhook_secrets
from assistants.destinations import webhook_destinations
from assistants.engine_rules import engine_problems
from assistants.languages import language_problem
from calls.engines import registry
from calls.vocabulary.persona import (
    DEFAULT_BACKEND_MODEL,
    DEFAULT_MODEL,
    DEFAULTS,
    Persona,
)
from calls.vocabulary.tools import (
    NO_TOOLS,
    EndCallTool,
    HandoffTarget,
    Silence,
    Tools,
    TransferTarget,
)
from calls.vocabulary.tools import WebhookTool as ToolSpec

e164_validator = RegexValidator(
    regex=r"\A\+[1-9]\d{1,14}\Z",
    message="Enter the number in E.164 form: a plus sign, then the country code "
    "and number with no spaces, e.g. +15550000001.",
)


def deployment_engine() -> str:
    """The engine for assistants that do not choose one: ``REALTIME_PROVIDER``'s.

    Deprecated path, kept so deployments configured with ``REALTIME_PROVIDER=azure``
    keep working; choose the engine on the assistant instead.
    """
    return registry.deployment_default(settings)


class TurnDetection(models.TextChoices):
    SERVER_VAD = "server_vad", "Server VAD (silence based)"
    SEMANTIC_VAD = "semantic_vad", "Semantic VAD (meaning based)"


class Eagerness(models.TextChoices):
    AUTO = "auto"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The longest prompts accepted: well above a detailed one, and each is copied
# into every call's record of the persona it ran with.
MAX_INSTRUCTIONS_CHARS = 32_000
MAX_GREETING_CHARS = 2_000


class Assistant(models.Model):
    name = models.CharField(max_length=100, unique=True)
    instructions = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_INSTRUCTIONS_CHARS)],
        help_text="The system message: who the assistant is, what it may do, how "
        "it should speak. Sent to the model at the start of every call.",
    )
    greeting = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_GREETING_CHARS)],
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
    # Choices are the registry's (callables, so a new engine or voice needs no
    # migration); ``engine_problems`` checks the voice against the engine.
    engine = models.CharField(
        max_length=32,
        choices=registry.choices,
        blank=True,
        help_text="The speech-to-speech engine that runs this assistant's calls; "
        "each takes its own voices, models and settings. Empty: the deployment's "
        "default (REALTIME_PROVIDER, deprecated).",
    )
    voice = models.CharField(
        max_length=20,
        choices=registry.voice_choices,
        default=DEFAULTS.voice,
        help_text="The assistant's voice; each engine takes its own set. marin and "
        "cedar sound the most natural.",
    )
    model = models.CharField(
        max_length=100,
        default=DEFAULT_MODEL,
        help_text="The voice model (for Azure, the deployment name). Free text, "
        "since models come and go; the engine's known models are suggested.",
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
        "to record only the assistant's side. The engine's known models are "
        "suggested.",
    )
    transcription_language = models.CharField(
        max_length=10,
        blank=True,
        help_text="Optional ISO-639-1 code of the callers' language (e.g. en, de). "
        "Improves transcription accuracy and speed.",
    )
    backend_model = models.CharField(
        max_length=100,
        blank=True,  # required for GPT-Live only (``engine_problems``)
        default=DEFAULT_BACKEND_MODEL,
        help_text="GPT-Live only (Realtime has no backend model): the Responses "
        "model the voice model delegates tools and business rules to.",
    )
    backend_instructions = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_INSTRUCTIONS_CHARS)],
        help_text="GPT-Live only: the backend model's prompt (business rules, "
        "when to use which tool, what to return). Keep the voice, tone and when "
        "to delegate in the instructions above.",
    )
    max_call_duration_seconds = models.PositiveIntegerField(
        "max call duration (s)",
        default=DEFAULTS.max_call_duration_seconds,
        validators=[MinValueValidator(30), MaxValueValidator(4 * 3600)],
        help_text="The assistant says goodbye and ends the call after this long.",
    )
    # -- tools (issue: assistants that act); the assistants JSON nests these
    # under "tools" (``assistants.config``), the persona under ``Persona.tools``.
    end_call_enabled = models.BooleanField(
        "can end the call",
        default=False,
        help_text="Give the model an end_call tool: it says the goodbye below (or "
        "finishes its sentence), the audio plays out, then the call hangs up.",
    )
    end_call_goodbye = models.CharField(
        "goodbye",
        max_length=500,
        blank=True,
        help_text="What the assistant says before it hangs up, e.g. 'Thanks for "
        "calling, goodbye.' Empty: it says goodbye in its own words.",
    )
    keypad = models.JSONField(
        default=dict,
        blank=True,
        help_text='Keypad digits that act without the model, e.g. {"0": '
        '{"transfer": "reception"}, "9": {"end_call": true}}. Other digits reach '
        'the model as text ("The caller pressed 5"), so spoken menus work.',
    )
    silence_reprompt_after_seconds = models.PositiveIntegerField(
        "reprompt after (s)",
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(600)],
        help_text="Seconds of silence (nobody speaking, no audio playing) before "
        "the assistant says the reprompt, once. Empty: never.",
    )
    silence_hang_up_after_seconds = models.PositiveIntegerField(
        "hang up after (s)",
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(3600)],
        help_text="Seconds of silence before the assistant says goodbye and ends "
        "the call (recorded as a silence timeout). Empty: never.",
    )
    silence_reprompt = models.CharField(
        "reprompt",
        max_length=300,
        blank=True,
        help_text="What the assistant says after the reprompt time, e.g. 'Are you "
        "still there?'",
    )
    # -- recordings, retention and redaction (issue: recordings)
    recording_enabled = models.BooleanField(
        "record calls",
        default=False,
        help_text="Keep a two-channel recording of each call (the caller, and the "
        "assistant as the caller heard it) on this deployment's storage. Tell "
        "callers: say so in the pre-connect message.",
    )
    recording_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Delete recordings this many days after the call "
        "(manage.py purge_calls). Empty: the deployment's default "
        "(RECORDING_RETENTION_DAYS), or keep.",
    )
    transcript_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Delete transcripts this many days after the call "
        "(manage.py purge_calls). Empty: the deployment's default "
        "(TRANSCRIPT_RETENTION_DAYS), or keep.",
    )
    redact = models.JSONField(
        default=list,
        blank=True,
        help_text="Personal data replaced in transcripts as they are written, e.g. "
        '["card_number", "ssn", "email", "phone_number"]. The model and anyone '
        "listening in live still hear the caller; only the stored text is redacted.",
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

    def fallback_problem(self) -> str:
        """Why this assistant cannot be the fallback now, naming the one that is."""
        if not self.is_fallback:
            return ""
        other = Assistant.objects.filter(is_fallback=True).exclude(pk=self.pk).first()
        if other is None:
            return ""
        return (
            f"Another assistant is already the fallback: {other.name}. "
            "Untick it there first."
        )

    def validate_constraints(self, exclude: Any = None) -> None:
        # ``clean`` checks the one-fallback rule itself and names the current
        # fallback; the constraint (kept for races) would repeat it unnamed.
        exclude = {*(exclude or ()), "is_fallback"}
        super().validate_constraints(exclude=exclude)

    def clean(self) -> None:
        if self.is_fallback and not self.is_active:
            raise ValidationError(
                {"is_fallback": "An inactive assistant cannot be the fallback."}
            )
        fallback_error = self.fallback_problem()
        if fallback_error:
            raise ValidationError({"is_fallback": fallback_error})
        errors = engine_problems(
            self.engine or deployment_engine(),
            voice=self.voice,
            model=self.model,
            backend_model=self.backend_model,
        )
        # The server refuses anything but an ISO-639-1 code, and so ends the call.
        language_error = language_problem(self.transcription_language)
        if language_error:
            errors["transcription_language"] = language_error
        errors.update(self.tool_setting_problems())
        if errors:
            raise ValidationError(errors)

    def tool_setting_problems(self) -> dict[str, str]:
        """The flat tool and privacy settings' own rules (``tool_validators``).

        Whether keypad transfers name real destinations needs the destination
        rows, which are checked with them (the import, the admin's inlines).
        """
        errors: dict[str, str] = {}
        keypad = tool_validators.keypad_problems(self.keypad, None)
        if keypad:
            errors["keypad"] = " ".join(keypad)
        silence = tool_validators.silence_problem(
            self.silence_reprompt_after_seconds, self.silence_hang_up_after_seconds
        )
        if silence:
            errors["silence_hang_up_after_seconds"] = silence
        redact = tool_validators.redact_problem(self.redact)
        if redact:
            errors["redact"] = redact
        return errors

    def persona(self) -> Persona:
        persona = Persona.from_attributes(self)
        return dataclasses.replace(
            persona,
            engine=self.engine or deployment_engine(),
            tools=self.tools() if self.pk else NO_TOOLS,
        )

    def tools(self) -> Tools:
        """This assistant's tools as a call sees them (queries the tool rows)."""
        keypad = Tools.from_data({"keypad": self.keypad}).keypad
        return Tools(
            end_call=EndCallTool(self.end_call_enabled, self.end_call_goodbye),
            transfer=tuple(
                TransferTarget(t.name, t.number, t.description, t.message)
                for t in self.transfer_destinations.all()
            ),
            handoff=tuple(
                HandoffTarget(h.target.name, h.description, h.target_id)
                for h in self.handoff_routes.select_related("target")
            ),
            keypad=keypad,
            silence=Silence(
                self.silence_reprompt_after_seconds,
                self.silence_hang_up_after_seconds,
                self.silence_reprompt,
            ),
            webhooks=tuple(
                ToolSpec(
                    w.name,
                    w.description,
                    w.url,
                    w.parameters or {},
                    w.timeout_seconds,
                    w.filler,
                )
                for w in self.webhook_tools.all()
            ),
        )

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


# -- tools: one row per transfer destination, handoff and webhook tool ----------

TOOL_NAME_PATTERN = r"\A[a-zA-Z0-9_-]{1,64}\Z"
tool_name_validator = RegexValidator(
    regex=TOOL_NAME_PATTERN,
    message="Use 1 to 64 letters, digits, underscores or hyphens.",
)


class TransferDestination(models.Model):
    """A person or line the assistant can transfer the caller to."""

    assistant = models.ForeignKey(
        Assistant, on_delete=models.CASCADE, related_name="transfer_destinations"
    )
    name = models.CharField(
        max_length=64,
        validators=[tool_name_validator],
        help_text="What the model calls it, e.g. reception.",
    )
    number = models.CharField(
        max_length=16,
        validators=[e164_validator],
        help_text="Dialled in E.164 form, e.g. +15557770000.",
    )
    description = models.CharField(
        max_length=500,
        help_text="When to transfer here, for the model, e.g. 'A person at the "
        "front desk, for anything you cannot answer.'",
    )
    message = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the assistant says before the transfer, e.g. 'Let me put "
        "you through to reception.'",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["assistant", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assistant", "name"], name="unique_transfer_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def clean(self) -> None:
        problem = tool_validators.name_problem(self.name)
        if problem:
            raise ValidationError({"name": problem})


class HandoffRoute(models.Model):
    """Another assistant this one can hand the conversation to."""

    assistant = models.ForeignKey(
        Assistant, on_delete=models.CASCADE, related_name="handoff_routes"
    )
    target = models.ForeignKey(
        Assistant,
        on_delete=models.PROTECT,
        related_name="handoffs_in",
        help_text="The conversation continues with this assistant's instructions "
        "and tools, in the same voice (the Realtime API cannot change the voice "
        "once audio was produced).",
    )
    description = models.CharField(
        max_length=500,
        help_text="When to hand off, for the model, e.g. 'Questions about invoices "
        "and payments.'",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["assistant", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assistant", "target"], name="unique_handoff_target"
            ),
        ]

    def __str__(self) -> str:
        return f"handoff to {self.target_id}"

    def clean(self) -> None:
        if self.assistant_id and self.assistant_id == self.target_id:
            raise ValidationError(
                {"target": "An assistant cannot hand a call off to itself."}
            )


class WebhookTool(models.Model):
    """A function the model can call: a signed POST to the business's system."""

    assistant = models.ForeignKey(
        Assistant, on_delete=models.CASCADE, related_name="webhook_tools"
    )
    name = models.CharField(
        max_length=64,
        validators=[tool_name_validator],
        help_text="The function's name for the model, e.g. lookup_order.",
    )
    description = models.CharField(
        max_length=1000,
        help_text="What it does and when to use it, for the model.",
    )
    url = models.URLField(
        "URL",
        max_length=500,
        help_text="http(s) endpoint that receives a signed POST (Standard "
        "Webhooks); redirects are not followed.",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='A JSON Schema object for the arguments, e.g. {"type": "object", '
        '"properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}.',
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Past this the model is told the tool timed out, and the call "
        "goes on.",
    )
    filler = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the assistant may say while it waits, e.g. 'One moment "
        "while I check.'",
    )
    secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Standard Webhooks signing secret (whsec_...). Generated when "
        "empty; never exported.",
    )
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["assistant", "position", "id"]
        verbose_name = "webhook tool"
        constraints = [
            models.UniqueConstraint(
                fields=["assistant", "name"], name="unique_webhook_tool_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every tool signs its requests: one made anywhere gets a secret.
        if not self.secret:
            self.secret = webhook_secrets.generate_secret()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        try:
            URLValidator()(self.url)
            url_problem = tool_validators.url_problem(self.url, webhook_destinations())
        except ValidationError:
            url_problem = ""  # the field's own validator says so already
        for key, problem in (
            ("name", tool_validators.name_problem(self.name)),
            ("url", url_problem),
            ("parameters", tool_validators.parameters_problem(self.parameters)),
            ("secret", self.secret and webhook_secrets.secret_problem(self.secret)),
        ):
            if problem:
                errors[key] = problem
        if errors:
            raise ValidationError(errors)
