"""Admin for assistants and their phone numbers.

Staff edit personas here: one page per assistant with its numbers inline. The list
shows how many calls each assistant took, linking to the staff call log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.db.models.fields import Field
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from assistants.models import (
    BACKEND_MODEL_SUGGESTIONS,
    MODEL_SUGGESTIONS,
    TRANSCRIPTION_MODEL_SUGGESTIONS,
    Assistant,
    PhoneNumber,
)
from assistants.widgets import DatalistInput
from calls.engines.model_names import persona_warnings
from calls.runtime.check import check_assistant

if TYPE_CHECKING:
    # django-stubs makes these generic; at run time Django's classes are not (that
    # would need django_stubs_ext.monkeypatch(), and django-stubs-ext is dev-only).
    AssistantAdminBase = admin.ModelAdmin[Assistant]
    PhoneNumberAdminBase = admin.ModelAdmin[PhoneNumber]
    PhoneNumberInlineBase = admin.TabularInline[PhoneNumber, Assistant]
else:
    AssistantAdminBase = PhoneNumberAdminBase = admin.ModelAdmin
    PhoneNumberInlineBase = admin.TabularInline

# "Check this assistant" runs one session per assistant, a few seconds each.
MAX_CHECKED = 5

# Free-text fields whose usual values the browser should offer.
SUGGESTIONS = {
    "model": MODEL_SUGGESTIONS,
    "transcription_model": TRANSCRIPTION_MODEL_SUGGESTIONS,
    "backend_model": BACKEND_MODEL_SUGGESTIONS,
}
# Fieldsets that apply to some engines only: engine_fields.js greys them out
# (the CSS class names the engines they apply to) when the engine is another.
REALTIME_ONLY = "engine-only engine-openai-realtime engine-azure-realtime"
LIVE_ONLY = "engine-only engine-openai-live"


# Messages read out to callers (CharFields with a length limit).
MESSAGE_FIELDS = ("pre_connect_message", "unavailable_message")


class PhoneNumberInline(PhoneNumberInlineBase):
    model = PhoneNumber
    extra = 0
    fields = ("number", "label", "is_active")


@admin.register(Assistant)
class AssistantAdmin(AssistantAdminBase):
    fieldsets = (
        (
            "Persona",
            {
                "fields": (
                    "name",
                    "instructions",
                    "greeting",
                    "pre_connect_message",
                    "unavailable_message",
                )
            },
        ),
        (
            "Voice and model",
            {"fields": ("engine", "voice", "model")},
        ),
        (
            "Realtime: transcription and temperature",
            {
                "classes": (REALTIME_ONLY,),
                "description": "Realtime engines only. GPT-Live transcribes both "
                "sides itself and has no temperature or transcription settings.",
                "fields": (
                    "temperature",
                    "transcription_model",
                    "transcription_language",
                ),
            },
        ),
        (
            "Turn-taking",
            {
                "classes": (REALTIME_ONLY,),
                "description": "Realtime engines only: GPT-Live has no client VAD "
                "settings (the model decides when to speak and when to stop). "
                "Server VAD uses threshold, padding and silence; "
                "semantic VAD uses eagerness.",
                "fields": (
                    "turn_detection",
                    "vad_threshold",
                    "vad_prefix_padding_ms",
                    "vad_silence_duration_ms",
                    "vad_eagerness",
                ),
            },
        ),
        (
            "GPT-Live backend",
            {
                "classes": (LIVE_ONLY,),
                "description": "GPT-Live only: Realtime has no backend model. The "
                "voice model delegates tools and business rules to this Responses "
                "model; the instructions above stay the voice's prompt.",
                "fields": ("backend_model", "backend_instructions"),
            },
        ),
        (
            "Limits and status",
            {"fields": ("max_call_duration_seconds", "is_active", "is_fallback")},
        ),
    )
    inlines = (PhoneNumberInline,)
    list_display = (
        "name",
        "engine",
        "voice",
        "model",
        "numbers",
        "call_count",
        "is_fallback",
        "is_active",
    )
    # is_fallback is editable beside is_active so that the rule tying the two
    # (the fallback must be active) reports its error on a column of the list.
    list_editable = ("is_active", "is_fallback")
    list_filter = ("is_active", "is_fallback", "engine", "voice")
    search_fields = ("name", "instructions", "phone_numbers__number")
    actions = ("check_assistants",)

    @admin.action(
        description="Check this assistant (open a session, place no call)",
        permissions=["view"],
    )
    def check_assistants(
        self, request: HttpRequest, queryset: QuerySet[Assistant]
    ) -> None:
        """Configure a session with each persona and report what the engine said."""
        chosen = list(queryset.order_by("name")[: MAX_CHECKED + 1])
        if len(chosen) > MAX_CHECKED:
            self.message_user(
                request,
                f"Check at most {MAX_CHECKED} assistants at a time (each takes up "
                "to a few seconds).",
                messages.ERROR,
            )
            return
        for assistant in chosen:
            result = check_assistant(assistant.persona())
            text = f"{assistant}: {result.summary}"
            if result.details:
                text += " Sent: " + "; ".join(result.details) + "."
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, text, level)
            for warning in result.warnings:
                self.message_user(request, f"{assistant}: {warning}", messages.WARNING)

    def save_model(
        self, request: HttpRequest, obj: Assistant, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # Unknown model names are allowed (models come and go), but said.
        for warning in persona_warnings(obj.persona()):
            self.message_user(request, f"{obj}: {warning}", messages.WARNING)

    class Media:
        js = ("assistants/engine_fields.js",)
        css = {"all": ("assistants/engine_fields.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assistant]:
        return (
            super()
            .get_queryset(request)
            .annotate(call_count=Count("calls"))
            .prefetch_related("phone_numbers")
        )

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name in SUGGESTIONS:
            kwargs["widget"] = DatalistInput(
                SUGGESTIONS[db_field.name], attrs={"class": "vTextField"}
            )
        if db_field.name in MESSAGE_FIELDS:
            # Sentences read to callers: a one-line input hides most of them.
            kwargs["widget"] = forms.Textarea(
                attrs={"rows": 3, "class": "vLargeTextField"}
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="numbers")
    def numbers(self, obj: Assistant) -> str:
        return ", ".join(phone.number for phone in obj.phone_numbers.all()) or "—"

    @admin.display(description="calls", ordering="call_count")
    def call_count(self, obj: Assistant) -> str:
        # Annotated by get_queryset(); the stubs see a plain Assistant.
        count: int = obj.call_count  # type: ignore[attr-defined]
        url = reverse("calls:list") + "?" + urlencode({"assistant": obj.pk})
        return format_html('<a href="{}">{}</a>', url, count)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(PhoneNumberAdminBase):
    list_display = ("number", "label", "assistant", "is_active", "calls_today")
    list_filter = ("is_active", "assistant")
    list_select_related = ("assistant",)
    search_fields = ("number", "label", "assistant__name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PhoneNumber]:
        midnight = timezone.localtime().replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                calls_today=Count("calls", filter=Q(calls__created_at__gte=midnight))
            )
        )

    @admin.display(description="calls today", ordering="calls_today")
    def calls_today(self, obj: PhoneNumber) -> str:
        # Annotated by get_queryset(); the stubs see a plain PhoneNumber.
        count: int = obj.calls_today  # type: ignore[attr-defined]
        query = {"number": obj.number, "date_from": timezone.localdate().isoformat()}
        url = reverse("calls:list") + "?" + urlencode(query)
        return format_html('<a href="{}">{}</a>', url, count)
