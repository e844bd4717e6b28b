"""The call admin's "Forget this caller" action (``calls.privacy.forget``), and the
read-only list of what was forgotten.

Select one or more calls; the confirmation page lists each of their callers
(masked) with what will be deleted, and only a second POST with ``post=yes``
deletes. Needs the delete permission on calls (superusers have it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from calls.models import Call, ForgetRequest
from calls.privacy import forget

if TYPE_CHECKING:
    CallAdminBase = admin.ModelAdmin[Call]
    ForgetRequestAdminBase = admin.ModelAdmin[ForgetRequest]
else:
    CallAdminBase = admin.ModelAdmin
    ForgetRequestAdminBase = admin.ModelAdmin


@admin.action(description="Forget this caller", permissions=["delete"])
def forget_caller(
    modeladmin: CallAdminBase, request: HttpRequest, queryset: QuerySet[Call]
) -> TemplateResponse | None:
    numbers = sorted({n for n in map(forget.caller_number, queryset) if n})
    plans, refused = [], []
    for number in numbers:
        try:
            plans.append(forget.forget_plan(number))
        except forget.ForgetError:
            refused.append(number)
    if request.POST.get("post") == "yes" and plans:
        who = request.user.get_username()
        for plan in plans:
            done = forget.caller_forget(number=plan.number, requested_by=who)
            modeladmin.message_user(
                request,
                f"Forgot {done.number_masked}: {done.calls} call(s), "
                f"{done.recordings} recording(s), {done.transcript_entries} "
                "transcript row(s) deleted.",
                messages.SUCCESS,
            )
        return None
    if not plans:
        modeladmin.message_user(
            request,
            "The selected calls have no caller's number to forget.",
            messages.WARNING,
        )
        return None
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "title": "Forget these callers?" if len(plans) > 1 else "Forget this caller?",
        "opts": modeladmin.model._meta,
        "plans": plans,
        "refused": len(refused),
        "queryset": queryset,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/calls/call/forget_caller.html", context)


@admin.register(ForgetRequest)
class ForgetRequestAdmin(ForgetRequestAdminBase):
    """The record of what was forgotten: written by ``calls.privacy.forget`` only."""

    list_display = (
        "created_at",
        "number_masked",
        "requested_by",
        "calls",
        "recordings",
        "transcript_entries",
    )
    # "Was +15551234567 forgotten?": the search box takes the number (or its hash);
    # the number itself is not kept.
    search_fields = ("number_hash",)
    date_hierarchy = "created_at"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ForgetRequest], search_term: str
    ) -> tuple[QuerySet[ForgetRequest], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        hashes = {term.lower(), forget.number_hash(term)}
        return queryset.filter(number_hash__in=hashes), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ForgetRequest | None = None
    ) -> bool:
        return False
