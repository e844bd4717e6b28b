"""Admin for assistants and their phone numbers.

Staff edit personas here: one page per assistant with its numbers inline. The list
shows how many calls each assistant took, linking to the staff call log. Tools
(transfer destinations, handoffs, webhook tools) are inlines too; their rules are
the models' ``clean()`` and ``assistants.tool_validators``, the same the JSON
import applies. A webhook tool's signing secret is shown once, in the message
after the save that made it (new tool, or "rotate secret"), and masked after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.fields import Field
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from assistants import tool_validators, webhook_secrets
from assistants.checks import RECORDING_NOTICE_HINT, recording_notice_problem
from assistants.engine_rules import persona_warnings
from assistants.models import (
    Assistant,
    HandoffRoute,
    PhoneNumber,
    TransferDestination,
    WebhookTool,
    deployment_engine,
)
from assistants.redaction_names import REDACTION_KINDS
from assistants.widgets import DatalistInput, KeypadTable
from calls.engines import registry
from calls.engines.spec import EngineSpec
from calls.runtime.check import check_assistant

if TYPE_CHECKING:
    # django-stubs makes these generic; at run time Django's classes are not (that
    # would need django_stubs_ext.monkeypatch(), and django-stubs-ext is dev-only).
    AssistantAdminBase = admin.ModelAdmin[Assistant]
    PhoneNumberAdminBase = admin.ModelAdmin[PhoneNumber]
    PhoneNumberInlineBase = admin.TabularInline[PhoneNumber, Assistant]
    TransferInlineBase = admin.TabularInline[TransferDestination, Assistant]
    HandoffInlineBase = admin.TabularInline[HandoffRoute, Assistant]
    WebhookInlineBase = admin.StackedInline[WebhookTool, Assistant]
else:
    AssistantAdminBase = PhoneNumberAdminBase = admin.ModelAdmin
    PhoneNumberInlineBase = TransferInlineBase = HandoffInlineBase = admin.TabularInline
    WebhookInlineBase = admin.StackedInline

# "Check this assistant" runs one session per assistant, a few seconds each.
MAX_CHECKED = 5

# Free-text fields whose usual values the browser should offer: every engine's.
SUGGESTIONS: dict[str, Callable[[], tuple[str, ...]]] = {
    "model": registry.models,
    "transcription_model": registry.transcription_models,
    "backend_model": registry.backend_models,
}
# Fieldsets that apply to some engines only, by what the engine's spec says it
# takes: engine_fields.js greys them out (the CSS class names the engines they
# apply to) when the engine is another.
ENGINE_ONLY: dict[str, Callable[[EngineSpec], bool]] = {
    "Realtime: transcription and temperature": (
        lambda spec: spec.can.caller_transcription == "setting"
    ),
    "Turn-taking": lambda spec: spec.can.vad_settings,
    "GPT-Live backend": lambda spec: spec.can.backend_model,
}


def engine_only(applies: Callable[[EngineSpec], bool]) -> str:
    """The CSS classes of a fieldset for the engines ``applies`` to."""
    names = [f"engine-{spec.name}" for spec in registry.specs() if applies(spec)]
    return " ".join(["engine-only", *names])


def by_family(values: Callable[[EngineSpec], tuple[str, ...]]) -> str:
    """ "Realtime: a, b; GPT-Live: c" from each engine family's ``values``."""
    groups: dict[str, tuple[str, ...]] = {}
    for spec in registry.specs():
        if values(spec):
            groups.setdefault(spec.family, values(spec))
    return "; ".join(f"{family}: {', '.join(v)}" for family, v in groups.items())


# Messages read out to callers (CharFields with a length limit).
MESSAGE_FIELDS = ("pre_connect_message", "unavailable_message")


class PhoneNumberInline(PhoneNumberInlineBase):
    model = PhoneNumber
    extra = 0
    fields = ("number", "label", "is_active")


# The admin renders help text as HTML: nothing here may look like a tag.
KEYPAD_HELP = (
    "Keys that act at once, without the model: end the call, or transfer to one "
    "of the transfer destinations below (by its name). Keys left to the model "
    'reach it as text ("The caller pressed 5"), so a spoken menu in the '
    "instructions works. In the assistants JSON this is "
    '"keypad": {"0": {"transfer": "reception"}, "9": {"end_call": true}}.'
)
REDACT_HELP = (
    "Personal data replaced in stored transcripts as they are written. The model "
    "and anyone listening in live still hear the caller."
)


def _posted_names(data: Any, prefix: str) -> list[str]:
    """The names an inline formset was posted with, deleted rows left out."""
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        return []
    return [
        name
        for index in range(total)
        if (name := data.get(f"{prefix}-{index}-name"))
        and not data.get(f"{prefix}-{index}-DELETE")
    ]


# Django's form classes take type parameters only in the stubs (django-stubs-ext,
# a development tool, would patch them in at run time).
if TYPE_CHECKING:
    _InlineFormSet = BaseInlineFormSet[TransferDestination, Assistant, Any]
    _WebhookToolModelForm = forms.ModelForm[WebhookTool]
else:
    _InlineFormSet = BaseInlineFormSet
    _WebhookToolModelForm = forms.ModelForm


class TransferFormSet(_InlineFormSet):
    """Checks what spans the inlines: one name per tool, keypad transfers exist."""

    def clean(self) -> None:
        super().clean()
        names = [
            form.cleaned_data["name"]
            for form in self.forms
            if form.cleaned_data.get("name") and not form.cleaned_data.get("DELETE")
        ]
        webhook_names = _posted_names(self.data, "webhook_tools")
        problems = [
            f"{kind}: {problem}"
            for kind, _, problem in tool_validators.name_clashes(names, webhook_names)
        ]
        try:
            keypad = json.loads(self.data.get("keypad") or "{}")
        except (TypeError, ValueError):
            keypad = None  # the keypad field reports it
        if keypad is not None:
            problems += [
                f"Keypad {problem}"
                for problem in tool_validators.keypad_problems(keypad, names)
            ]
        if problems:
            raise ValidationError(problems)


class TransferDestinationInline(TransferInlineBase):
    model = TransferDestination
    formset = TransferFormSet
    extra = 0
    fields = ("name", "number", "description", "message")
    verbose_name = "transfer destination"
    verbose_name_plural = (
        "Transfer destinations (the model's transfer_call tool; a keypad key can "
        "transfer too)"
    )


class HandoffRouteInline(HandoffInlineBase):
    model = HandoffRoute
    fk_name = "assistant"
    extra = 0
    fields = ("target", "description")
    verbose_name = "handoff"
    verbose_name_plural = (
        "Handoffs (the model's handoff tool: the call continues with another "
        "assistant's instructions and tools)"
    )


class WebhookToolForm(_WebhookToolModelForm):
    rotate_secret = forms.BooleanField(
        required=False,
        help_text="Make a new signing secret on save (shown once, in the message "
        "after saving). The business's system must switch to it.",
    )

    class Meta:
        model = WebhookTool
        # The inline's ``fields`` decide; "url" is built by its formfield_for_dbfield
        # (with an explicit default scheme), so it is not listed here.
        fields = ("name", "description", "parameters", "timeout_seconds", "filler")

    def save(self, commit: bool = True) -> WebhookTool:
        tool = self.instance
        # Made here rather than by WebhookTool.save() so that the admin knows to
        # show it: it is never displayed again.
        rotate = bool(self.cleaned_data.get("rotate_secret")) and bool(tool.pk)
        if rotate or not tool.secret:
            tool.secret = webhook_secrets.generate_secret()
            self.new_secret = tool.secret
            if rotate:
                tool.secret_rotated_at = timezone.now()
        saved: WebhookTool = super().save(commit)
        return saved


class WebhookToolInline(WebhookInlineBase):
    model = WebhookTool
    form = WebhookToolForm
    extra = 0
    fields = (
        "name",
        "description",
        "url",
        "parameters",
        "timeout_seconds",
        "filler",
        "signing_secret",
        "rotate_secret",
    )
    readonly_fields = ("signing_secret",)
    verbose_name_plural = (
        "Webhook tools (functions the model can call: a signed POST to your system)"
    )

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "url":
            # A URL typed without a scheme means https (Django 6's default).
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="signing secret")
    def signing_secret(self, obj: WebhookTool) -> str:
        if not obj.pk:
            return "Made when the tool is saved, and shown once."
        rotated = (
            f" (rotated {timezone.localtime(obj.secret_rotated_at):%Y-%m-%d %H:%M})"
            if obj.secret_rotated_at
            else ""
        )
        return webhook_secrets.masked(obj.secret) + rotated


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
                "description": "GPT-Live only: Realtime has no backend model. The "
                "voice model delegates tools and business rules to this Responses "
                "model; the instructions above stay the voice's prompt.",
                "fields": ("backend_model", "backend_instructions"),
            },
        ),
        (
            "Tools",
            {
                "description": "What the assistant can do besides talk. Transfer "
                "destinations, handoffs and webhook tools are listed below the "
                "settings.",
                "fields": (
                    "end_call_enabled",
                    "end_call_goodbye",
                    "keypad",
                    "silence_reprompt_after_seconds",
                    "silence_hang_up_after_seconds",
                    "silence_reprompt",
                ),
            },
        ),
        (
            "Recording and privacy",
            {
                "description": "Recorded callers must be told: say so in the "
                "pre-connect message. Retention: empty uses the deployment's "
                "default.",
                "fields": (
                    "recording_enabled",
                    "recording_retention_days",
                    "transcript_retention_days",
                    "redact",
                ),
            },
        ),
        (
            "Limits and status",
            {"fields": ("max_call_duration_seconds", "is_active", "is_fallback")},
        ),
    )
    inlines = (
        PhoneNumberInline,
        TransferDestinationInline,
        HandoffRouteInline,
        WebhookToolInline,
    )
    list_display = (
        "name",
        "engine_used",
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
        notice = recording_notice_problem(
            obj.recording_enabled, obj.pre_connect_message
        )
        if notice:
            self.message_user(
                request, f"{obj} {notice} {RECORDING_NOTICE_HINT}", messages.WARNING
            )

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model in (TransferDestination, HandoffRoute, WebhookTool):
            # The JSON's list order is ``position``; here it is the forms' order.
            kept = [
                f.instance
                for f in formset.forms
                if f.instance.pk and f not in formset.deleted_forms
            ]
            for position, row in enumerate(kept):
                if row.position != position:
                    formset.model.objects.filter(pk=row.pk).update(position=position)
        for inline_form in formset.forms:
            secret = getattr(inline_form, "new_secret", None)
            if secret:
                self.message_user(
                    request,
                    f'Signing secret of the webhook tool "{inline_form.instance}": '
                    f"{secret} — copy it to your system now; it is not shown again.",
                    messages.SUCCESS,
                )

    def get_form(
        self,
        request: HttpRequest,
        obj: Assistant | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "keypad" in form.base_fields:
            # The destinations this assistant has, offered for keypad transfers.
            names = (
                list(obj.transfer_destinations.values_list("name", flat=True))
                if obj
                else []
            )
            form.base_fields["keypad"].widget = KeypadTable(names)
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Assistant | None = None) -> Any:
        # Per request, so the classes follow the registry's engines.
        out = []
        for name, options in super().get_fieldsets(request, obj):
            applies = ENGINE_ONLY.get(str(name))
            if applies is not None:
                options = {**options, "classes": (engine_only(applies),)}
            out.append((name, options))
        return out

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
        if db_field.name == "redact":
            return forms.MultipleChoiceField(
                label="Redact",
                choices=[(kind, kind.replace("_", " ")) for kind in REDACTION_KINDS],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                help_text=REDACT_HELP,
            )
        if db_field.name == "keypad":
            kwargs["help_text"] = KEYPAD_HELP
            kwargs["widget"] = KeypadTable()
        if db_field.name in SUGGESTIONS:
            kwargs["widget"] = DatalistInput(
                SUGGESTIONS[db_field.name](), attrs={"class": "vTextField"}
            )
        if db_field.name == "engine":
            # Empty is the deployment's default engine: say which, and tell
            # engine_fields.js, which greys the fieldsets it does not take.
            default = deployment_engine()
            kwargs["choices"] = [
                ("", f"Deployment default: {registry.label(default)}"),
                *registry.choices(),
            ]
            kwargs["widget"] = forms.Select(attrs={"data-default-engine": default})
        if db_field.name in ("voice", "model"):
            known = by_family(
                (lambda s: s.voices)
                if db_field.name == "voice"
                else (lambda s: s.models)
            )
            kwargs["help_text"] = f"{db_field.help_text} {known}."
        if db_field.name in MESSAGE_FIELDS:
            # Sentences read to callers: a one-line input hides most of them.
            kwargs["widget"] = forms.Textarea(
                attrs={"rows": 3, "class": "vLargeTextField"}
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="engine", ordering="engine")
    def engine_used(self, obj: Assistant) -> str:
        """The engine its calls run on: its own, or the deployment's default
        (an assistant imported without "engine" has none of its own)."""
        if obj.engine:
            return registry.label(obj.engine)
        return f"{registry.label(deployment_engine())} (deployment default)"

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
