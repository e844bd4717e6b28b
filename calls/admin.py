"""Admin for calls: a read-only record, with the transcript inline.

Calls are written only by the webhooks and the media bridge, so nobody can add or
edit one here; staff with the view permission can browse, search and open them
(the change page renders read-only). Callers' numbers are masked unless
``CALLS_MASK_NUMBERS`` is off or the user has ``calls.view_caller_number``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from calls.models import Call, TranscriptEntry, mask_number
from calls.review.selectors import can_see_numbers
from calls.usage import USAGE_FIELDS

if TYPE_CHECKING:
    # django-stubs makes these generic; at run time Django's classes are not.
    CallAdminBase = admin.ModelAdmin[Call]
    TranscriptInlineBase = admin.TabularInline[TranscriptEntry, Call]
else:
    CallAdminBase = admin.ModelAdmin
    TranscriptInlineBase = admin.TabularInline

TRANSCRIPT_FIELDS = (
    "seq",
    "role",
    "text",
    "offset_ms",
    "interrupted",
    "failed",
    "reply_latency_ms",
    "heard_latency_ms",
)


class TranscriptEntryInline(TranscriptInlineBase):
    model = TranscriptEntry
    extra = 0
    can_delete = False
    fields = TRANSCRIPT_FIELDS
    readonly_fields = TRANSCRIPT_FIELDS
    ordering = ("seq",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may view a call may read its transcript.
        return request.user.has_perm("calls.view_call")


@admin.register(Call)
class CallAdmin(CallAdminBase):
    inlines = (TranscriptEntryInline,)
    list_display = (
        "call_sid",
        "created_at",
        "status",
        "direction",
        "from_number",
        "to_number",
        "assistant_name",
        "duration_seconds",
        "end_reason",
        "call_page",
    )
    list_filter = ("assistant", "phone_number", "status", "direction", "created_at")
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return self._numbers_for(request, self.list_display)

    def get_fieldsets(
        self, request: HttpRequest, obj: Call | None = None
    ) -> list[tuple[str | None, dict[str, Any]]]:
        call_fields = self._numbers_for(
            request,
            (
                "call_sid",
                "stream_sid",
                "status",
                "direction",
                "from_number",
                "to_number",
                "phone_number",
                "assistant",
                "call_page",
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
            ("Token usage", {"fields": USAGE_FIELDS, "classes": ("collapse",)}),
            (
                "Assistant settings used",
                {"fields": ("settings_used",), "classes": ("collapse",)},
            ),
        ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Call | None = None
    ) -> tuple[str, ...]:
        fields = [field.name for field in Call._meta.fields]
        return (*fields, "masked_from_number", "call_page", "settings_used")

    @admin.display(description="from", ordering="from_number")
    def masked_from_number(self, obj: Call) -> str:
        return mask_number(obj.from_number)

    @admin.display(description="assistant", ordering="assistant__name")
    def assistant_name(self, obj: Call) -> str:
        if obj.assistant is not None:
            return obj.assistant.name
        return (obj.assistant_snapshot or {}).get("name") or "—"

    @admin.display(description="call page")
    def call_page(self, obj: Call) -> str:
        return format_html('<a href="{}">Open</a>', obj.get_absolute_url())

    @admin.display(description="settings")
    def settings_used(self, obj: Call) -> str:
        snapshot = json.dumps(obj.assistant_snapshot or {}, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", snapshot)

    def _numbers_for(
        self, request: HttpRequest, fields: tuple[str, ...]
    ) -> tuple[str, ...]:
        if can_see_numbers(request.user):
            return fields
        return tuple(
            "masked_from_number" if name == "from_number" else name for name in fields
        )
