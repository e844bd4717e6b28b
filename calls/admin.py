"""Admin for calls: a read-only record, with the transcript inline.

Calls are written only by the webhooks and the call runtime, so nobody can add or
edit one here; staff with the view permission can browse, search and open them
(the change page renders read-only). Callers' numbers follow the staff pages' rule
(``calls.privacy.masking``): unless ``CALLS_MASK_NUMBERS`` is off or the user has
``calls.view_caller_number``, the other party's number is masked in the list and on
the change page, and such users can neither search nor filter by number (a match
would confirm a masked number).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from calls.admin_forget import forget_caller
from calls.models import Call, CallAssistant, EndReason, TranscriptEntry
from calls.privacy.masking import can_see_numbers, mask_number, shown_numbers
from calls.review.recording_player import recording_data
from calls.vocabulary.usage import USAGE_FIELDS

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

    # django-stubs makes these generic; at run time Django's classes are not.
    CallAdminBase = admin.ModelAdmin[Call]
    TranscriptInlineBase = admin.TabularInline[TranscriptEntry, Call]
    SpanInlineBase = admin.TabularInline[CallAssistant, Call]
else:
    CallAdminBase = admin.ModelAdmin
    TranscriptInlineBase = admin.TabularInline
    SpanInlineBase = admin.TabularInline

TRANSCRIPT_FIELDS = (
    "seq",
    "role",
    "text",
    "offset_ms",
    "interrupted",
    "failed",
    "reply_latency_ms",
    "heard_latency_ms",
    # Tool rows (role "tool"): ``text`` is the output or the error.
    "tool_name",
    "tool_arguments",
    "tool_status",
    "duration_ms",
)
SPAN_FIELDS = ("name", "assistant", "offset_ms", "started_at")
# The transfer destination is a third party's number: masked like the others.
NUMBER_FIELDS = ("from_number", "to_number", "transfer_to")
# Masked stand-ins for NUMBER_FIELDS, for users who may not see numbers in full.
MASKED_FIELDS = {
    "from_number": "masked_from_number",
    "to_number": "masked_to_number",
    "transfer_to": "masked_transfer_to",
}


class TransferredFilter(admin.SimpleListFilter):
    """Calls that went to a person (``calls.review.tool_rows.was_transferred``).

    By yes/no only: a filter on the destination would confirm masked numbers."""

    title = "transferred"
    parameter_name = "transferred"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Call]
    ) -> QuerySet[Call]:
        went = Q(end_reason=EndReason.TRANSFERRED) | ~Q(transfer_to="")
        if self.value() == "yes":
            return queryset.filter(went)
        if self.value() == "no":
            return queryset.exclude(went)
        return queryset


class HandedOffFilter(admin.SimpleListFilter):
    title = "handed off"
    parameter_name = "handed_off"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Call]
    ) -> QuerySet[Call]:
        if self.value() == "yes":
            return queryset.filter(handoffs__gt=0)
        if self.value() == "no":
            return queryset.filter(handoffs=0)
        return queryset


class TranscriptEntryInline(TranscriptInlineBase):
    model = TranscriptEntry
    extra = 0
    can_delete = False
    fields = TRANSCRIPT_FIELDS
    readonly_fields = TRANSCRIPT_FIELDS
    ordering = ("seq",)

    # Django passes the parent call as ``obj`` (the stubs say the inline's model
    # for change and view): typed wide enough for both.
    def has_add_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_view_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        # Whoever may view a call may read its transcript.
        return request.user.has_perm("calls.view_call")


class CallAssistantInline(SpanInlineBase):
    """Which assistants handled the call: one row, plus one per handoff."""

    model = CallAssistant
    extra = 0
    can_delete = False
    fields = SPAN_FIELDS
    readonly_fields = SPAN_FIELDS
    verbose_name = "assistant that handled the call"
    verbose_name_plural = "handled by"

    def has_add_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_view_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return request.user.has_perm("calls.view_call")


@admin.register(Call)
class CallAdmin(CallAdminBase):
    inlines = (CallAssistantInline, TranscriptEntryInline)
    actions = (forget_caller,)
    # Fits 1400 px: short columns, the CallSid as the change link, direction and
    # Twilio's status in the filters and on the change page.
    list_display = (
        "short_sid",
        "created",
        "outcome_badge",
        "end_reason",
        "from_number",
        "to_number",
        "assistant_name",
        "duration",
        "call_page",
    )
    list_display_links = ("short_sid",)
    list_filter = (
        "outcome",
        "end_reason",
        "status",
        "direction",
        "assistant",
        "phone_number",
        "created_at",
        TransferredFilter,
        "transfer_status",
        HandedOffFilter,
    )
    list_select_related = ("assistant", "phone_number")
    search_fields = (
        "call_sid",
        "from_number",
        "to_number",
        "transcript_entries__text",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 100
    # Counting every call on each page view gets slow on a long history.
    show_full_result_count = False

    class Media:
        css = {"all": ("calls/admin.css",)}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return self._numbers_for(request, self.list_display)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        # A hit on a full number would confirm whose masked number a row shows.
        if can_see_numbers(request.user):
            return tuple(self.search_fields)
        return tuple(name for name in self.search_fields if name not in NUMBER_FIELDS)

    def lookup_allowed(
        self, lookup: str, value: str, request: HttpRequest | None = None
    ) -> bool:
        # The admin accepts any local-field lookup in the query string
        # (?from_number__startswith=...), which would leak numbers the same way.
        # Any part naming a number counts, so a lookup through a relation does too.
        names_a_number = not set(lookup.split("__")).isdisjoint(NUMBER_FIELDS)
        if names_a_number and (request is None or not can_see_numbers(request.user)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fieldsets(
        self, request: HttpRequest, obj: Call | None = None
    ) -> _FieldsetSpec:
        call_fields = self._numbers_for(
            request,
            (
                "call_sid",
                "stream_sid",
                "outcome",
                "status",
                "direction",
                "from_number",
                "to_number",
                "phone_number",
                "assistant",
                "call_page",
                "recording_link",
            ),
        )
        return [
            (None, {"fields": call_fields}),
            (
                "Timing",
                {
                    "fields": (
                        ("created_at", "stream_claimed_at"),
                        ("started_at", "ended_at"),
                        "duration_seconds",
                        "end_reason",
                        "error",
                        "bad_frames",
                    )
                },
            ),
            (
                "Transfer and handoffs",
                {
                    "fields": self._numbers_for(
                        request,
                        ("transfer_to", "transfer_status", "streams", "handoffs"),
                    )
                },
            ),
            (
                "Usage (tokens, and session seconds for GPT-Live)",
                {"fields": USAGE_FIELDS, "classes": ("collapse",)},
            ),
            (
                "Assistant settings used",
                {"fields": ("settings_used",), "classes": ("collapse",)},
            ),
        ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Call | None = None
    ) -> tuple[str, ...]:
        fields = [field.name for field in Call._meta.fields]
        return (
            *fields,
            *MASKED_FIELDS.values(),
            "call_page",
            "recording_link",
            "settings_used",
            "outcome_badge",
        )

    # No ``ordering``: sorting by the hidden digits would hint at them.
    @admin.display(description="from")
    def masked_from_number(self, obj: Call) -> str:
        return self._masked(obj)[0]

    @admin.display(description="to")
    def masked_to_number(self, obj: Call) -> str:
        return self._masked(obj)[1]

    @admin.display(description="transferred to")
    def masked_transfer_to(self, obj: Call) -> str:
        return mask_number(obj.transfer_to) if obj.transfer_to else ""

    @admin.display(description="assistant", ordering="assistant__name")
    def assistant_name(self, obj: Call) -> str:
        if obj.assistant is not None:
            return obj.assistant.name
        return (obj.assistant_snapshot or {}).get("name") or "—"

    @admin.display(description="CallSid", ordering="call_sid")
    def short_sid(self, obj: Call) -> str:
        sid = obj.call_sid
        return sid if len(sid) <= 12 else f"{sid[:6]}…{sid[-4:]}"

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Call) -> str:
        # The call log's format, in the viewer's time zone.
        return date_format(localtime(obj.created_at), "Y-m-d H:i")

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, obj: Call) -> str:
        # Styled by calls/admin.css like the pages' badges (no inline styles:
        # the Content-Security-Policy refuses them).
        if not obj.outcome:
            return format_html(
                '<span class="call-badge" title="Twilio status">{}</span>',
                obj.get_status_display(),
            )
        return format_html(
            '<span class="call-badge outcome-{}" title="Twilio status: {}">{}</span>',
            obj.outcome,
            obj.get_status_display(),
            obj.get_outcome_display(),
        )

    @admin.display(description="duration", ordering="duration_seconds")
    def duration(self, obj: Call) -> str:
        if obj.duration_seconds is None:
            return "—"
        minutes, seconds = divmod(obj.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="call page")
    def call_page(self, obj: Call) -> str:
        return format_html('<a href="{}">Open</a>', obj.get_absolute_url())

    @admin.display(description="recording")
    def recording_link(self, obj: Call) -> str:
        # The authenticated view (calls.listen_recording), never a media URL.
        data = recording_data(obj)
        if data is None:
            return "—"
        return format_html(
            '<a href="{}">Play or download</a> ({} s, {} bytes)',
            data["url"],
            data["duration_ms"] // 1000,
            data["size_bytes"],
        )

    @admin.display(description="settings")
    def settings_used(self, obj: Call) -> str:
        snapshot = json.dumps(obj.assistant_snapshot or {}, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", snapshot)

    def _numbers_for(
        self, request: HttpRequest, fields: tuple[str, ...]
    ) -> tuple[str, ...]:
        if can_see_numbers(request.user):
            return fields
        return tuple(MASKED_FIELDS.get(name, name) for name in fields)

    @staticmethod
    def _masked(obj: Call) -> tuple[str, str]:
        """(from, to) as the pages show them to a user who may not see numbers."""
        return shown_numbers(
            direction=obj.direction,
            from_number=obj.from_number,
            to_number=obj.to_number,
            show=False,
        )
