"""Staff pages: the call log, one call, live calls, the dashboard, downloads.

Thin glue: forms validate the query string, ``selectors`` and ``stats``
read, ``calls.review.exports`` serialises, templates render. Every page needs its
permission (``calls.review.permissions``): anonymous viewers go to the login page,
users without it get the 403 page naming the permission.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assistants.models import Assistant
from calls import pricing
from calls.engines import registry
from calls.models import CallDirection, CallOutcome, CallStatus, EndReason
from calls.privacy import masking
from calls.review import (
    call_rows,
    charts,
    display,
    exports,
    permissions,
    recording_player,
    selectors,
    stats,
    transfer_numbers,
    turn_rows,
)
from calls.review.call_rows import CallRow
from calls.review.persona_panel import persona_panel
from calls.review.timezones import timezone_options

PAGE_SIZE = 50
DOWNLOAD_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
# Hang up and transfer (``control_views``); the pages show those buttons with it.
CONTROL_PERMISSION = permissions.CONTROL


def can_control(user: permissions.Viewer) -> bool:
    """Whether ``user`` may hang up and transfer calls (superusers may)."""
    return permissions.has(user, CONTROL_PERMISSION)


class DateInput(forms.DateInput):
    input_type = "date"


class CallFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "aria-describedby": "q-hint"}),
    )
    assistant = forms.ModelChoiceField(
        Assistant.objects.order_by("name"), required=False, empty_label="Any"
    )
    number = forms.CharField(
        label="Number",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    outcome = forms.ChoiceField(
        choices=[("", "Any"), *CallOutcome.choices], required=False
    )
    end_reason = forms.ChoiceField(
        label="End reason", choices=[("", "Any"), *EndReason.choices], required=False
    )
    status = forms.ChoiceField(
        label="Twilio status",
        choices=[("", "Any"), *CallStatus.choices],
        required=False,
    )
    direction = forms.ChoiceField(
        choices=[("", "Any"), *CallDirection.choices], required=False
    )
    engine = forms.ChoiceField(
        choices=lambda: [("", "Any"), *registry.choices()], required=False
    )
    date_from = forms.DateField(label="From date", required=False, widget=DateInput)
    date_to = forms.DateField(label="To date", required=False, widget=DateInput)
    transferred = forms.BooleanField(label="Transferred", required=False)
    handed_off = forms.BooleanField(label="Handed off", required=False)

    def filters(self) -> selectors.CallFilters:
        """The valid fields as filters (invalid ones are shown and ignored)."""
        self.is_valid()
        data = self.cleaned_data
        assistant = data.get("assistant")
        return selectors.CallFilters(
            assistant_id=assistant.pk if assistant else None,
            number=(data.get("number") or "").strip(),
            status=data.get("status") or "",
            outcome=data.get("outcome") or "",
            end_reason=data.get("end_reason") or "",
            direction=data.get("direction") or "",
            engine=data.get("engine") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=(data.get("q") or "").strip(),
            transferred=bool(data.get("transferred")),
            handed_off=bool(data.get("handed_off")),
        )


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(d, f"Last {d} days") for d in stats.PERIOD_DAYS],
        coerce=int,
        required=False,
    )
    date_from = forms.DateField(label="From date", required=False, widget=DateInput)
    date_to = forms.DateField(label="To date", required=False, widget=DateInput)


def page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a staff page with what the base template needs."""
    context.setdefault("nav", "")
    context["current_timezone"] = timezone.get_current_timezone_name()
    context["timezone_options"] = timezone_options(context["current_timezone"])
    return render(request, template, context)


def rows_for(
    request: HttpRequest, calls: Iterable[selectors.CallWithTurns]
) -> list[CallRow]:
    """``calls`` as the viewer may see them (one query for their latencies)."""
    return call_rows.call_rows(
        calls,
        prices=pricing.Prices.from_settings(settings),
        show_numbers=masking.can_see_numbers(request.user),
        now=timezone.now(),
    )


@permissions.require(permissions.VIEW)
def call_list(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.CallFilters()
    live_qs, past_qs = selectors.call_log(
        filters,
        timezone.get_current_timezone(),
        show_numbers=masking.can_see_numbers(request.user),
    )
    calls = Paginator(past_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    live = list(live_qs[: selectors.LIVE_LIMIT]) if calls.number == 1 else []
    shown = rows_for(request, [*live, *calls.object_list])
    return page(
        request,
        "calls/call_list.html",
        {
            "nav": "list",
            "form": form,
            "page_obj": calls,
            "live_calls": shown[: len(live)],
            "calls": shown[len(live) :],
            "filtered": any(v for v in vars(filters).values()),
            "can_control": bool(live) and can_control(request.user),
            "can_view_live": permissions.has(request.user, permissions.VIEW_LIVE),
        },
    )


@permissions.require(permissions.VIEW)
def call_detail(request: HttpRequest, call_sid: str) -> HttpResponse:
    found = selectors.call_with_entries(call_sid)
    if found is None:
        raise Http404("No such call.")
    call, entries = found
    show_numbers = masking.can_see_numbers(request.user)
    numbers = transfer_numbers.rule_for(
        call.assistant_snapshot, show_numbers=show_numbers
    )
    spans = list(selectors.assistant_spans(call))
    turns = sum(1 for e in entries if e.role in selectors.TURN_ROLES)
    row = call_rows.call_row(
        call,
        turns=turns,
        reply_latencies=selectors.reply_latencies([call.pk]).get(call.pk, []),
        prices=pricing.Prices.from_settings(settings),
        show_numbers=show_numbers,
        now=timezone.now(),
    )
    return page(
        request,
        "calls/call_detail.html",
        {
            "nav": "list",
            "call": row,
            "detail": call_rows.call_detail(call, row),
            "entries": turn_rows.transcript_rows(entries, numbers, spans),
            "spans": turn_rows.span_rows(spans),
            "turns": turns,
            "latency": display.latency_summary(entries),
            "persona": persona_panel(
                call.assistant_snapshot,
                show_urls=request.user.has_perm("assistants.change_assistant"),
                show_numbers=show_numbers,
            ),
            "can_control": call.is_live and can_control(request.user),
            "can_view_live": permissions.has(request.user, permissions.VIEW_LIVE),
            "can_export": permissions.has(request.user, permissions.EXPORT),
            **recording_player.player_context(request.user, call),
        },
    )


@permissions.require(permissions.VIEW, permissions.EXPORT)
def call_transcript_download(
    request: HttpRequest, call_sid: str, fmt: str
) -> HttpResponse:
    if fmt not in DOWNLOAD_TYPES:
        raise Http404("Download as .json or .csv.")
    queryset = exports.export_queryset(call_sid=call_sid)
    if not queryset.exists():
        raise Http404("No such call.")
    calls = exports.iter_call_dicts(
        queryset,
        prices=pricing.Prices.from_settings(settings),
        show_numbers=masking.can_see_numbers(request.user),
    )
    render_text = exports.iter_json if fmt == "json" else exports.iter_csv
    response = HttpResponse("".join(render_text(calls)), DOWNLOAD_TYPES[fmt])
    safe_name = re.sub(r"[^A-Za-z0-9_-]", "_", call_sid)[:64]
    response["Content-Disposition"] = f'attachment; filename="{safe_name}.{fmt}"'
    return response


@permissions.require(permissions.VIEW_LIVE)
def live_calls(request: HttpRequest) -> HttpResponse:
    live_qs, _ = selectors.call_log(
        selectors.CallFilters(), timezone.get_current_timezone()
    )
    shown = rows_for(request, live_qs[: selectors.LIVE_LIMIT])
    return page(
        request,
        "calls/live.html",
        {"nav": "live", "calls": shown, "can_control": can_control(request.user)},
    )


@permissions.require(permissions.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # valid fields still apply; the wrong one shows its error
        data = form.cleaned_data
    tz = timezone.get_current_timezone()
    period = stats.period_for(
        today=timezone.localdate(),
        tz=tz,
        days=data.get("days") or stats.PERIOD_DAYS[0],
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    days = stats.calls_per_day(period)
    latency = stats.latency_by_assistant(period)
    prices = pricing.Prices.from_settings(settings)
    usage = stats.usage_by_assistant(period, prices)
    engines = stats.engines_compared(period, prices)
    context = {
        "nav": "dashboard",
        "form": form,
        "period": period,
        "days": days,
        "total_calls": sum(day.total for day in days),
        "answered_calls": sum(day.answered for day in days),
        "answer_rate": stats.answer_rate(days),
        "failed_calls": sum(day.failed for day in days),
        "failure_rate": stats.failure_rate(days),
        "failures": stats.failures_by_reason(period),
        "latency": latency,
        "usage": usage,
        "show_session_seconds": any(u.session_seconds for u in usage),
        # Compared only when the period has calls on more than one engine.
        "engines": engines if len(engines) > 1 else [],
        "total_cost": pricing.format_usd(sum(u.cost.total_usd for u in usage)),
        "charts": charts.dashboard_charts(days=days, latency=latency, usage=usage),
    }
    return page(request, "calls/dashboard.html", context)
