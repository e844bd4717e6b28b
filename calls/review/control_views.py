"""Staff controls for calls in progress: hang up, transfer to a person.

GET shows a confirmation page; POST (Django's CSRF check applies) asks the server
process running the call through ``calls.runtime.bus.control`` and goes back to the
call page with the outcome as a message. Needs a login and the
``calls.control_call`` permission (``calls.review.permissions``). The runner
writes the transcript note and ``Call.ended_by`` itself; these views only ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from assistants.models import e164_validator
from calls.models import Call
from calls.review import permissions, selectors
from calls.review.views import CONTROL_PERMISSION, can_control, page, rows_for
from calls.runtime.bus import control
from calls.services import transfer_policy
from calls.vocabulary.persona import Persona
from calls.vocabulary.tools import TransferTarget

__all__ = ["CONTROL_PERMISSION", "DEFAULT_TRANSFER_MESSAGE", "can_control"]

DEFAULT_TRANSFER_MESSAGE = control.DEFAULT_TRANSFER_MESSAGE


# A login (else the login page), then the control permission (else 403).
control_required = permissions.require(CONTROL_PERMISSION)


class TransferForm(forms.Form):
    destination = forms.ChoiceField(
        label="Destination",
        required=False,
        help_text="One of the assistant's transfer destinations, or another "
        "number entered below.",
    )
    to = forms.CharField(
        label="Transfer to",
        required=False,
        max_length=16,  # "+" and at most 15 digits
        validators=[e164_validator],
        help_text="E.164: a plus sign, the country code and the number, "
        "e.g. +15551234567.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "off",
                "placeholder": "+15551234567",
            }
        ),
    )
    message = forms.CharField(
        label="Message to the caller",
        required=False,
        max_length=control.MAX_MESSAGE_CHARS,
        initial=DEFAULT_TRANSFER_MESSAGE,
        help_text="Said to the caller before the transfer; leave empty for none.",
    )

    def __init__(
        self, *args: Any, destinations: Sequence[TransferTarget] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.destinations = {target.name: target.number for target in destinations}
        # Chosen by name: a viewer who may not see numbers never gets one.
        field = self.fields["destination"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "Another number (enter it below)"),
            *((target.name, target.name) for target in destinations),
        ]
        if not destinations:
            del self.fields["destination"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("destination") or ""
        if name:
            data["to"] = self.destinations[name]
        elif not data.get("to") and "to" not in self.errors:
            self.add_error(
                "to", "Choose a destination or enter the number to transfer to."
            )
        return data


def requested_by(request: HttpRequest) -> str:
    """How the transcript names the staff member who asked."""
    return request.user.get_username()


def _live_call(
    request: HttpRequest, call_sid: str
) -> selectors.CallWithTurns | HttpResponseRedirect:
    """The call if it is in progress, else a redirect to its page saying why."""
    call = selectors.with_turns(
        Call.objects.select_related("assistant").filter(call_sid=call_sid)
    ).first()
    if call is None:
        raise Http404("No such call.")
    if not call.is_live:
        why = call.get_end_reason_display() or call.get_status_display()
        messages.error(
            request,
            f"This call is no longer in progress ({why}), so it cannot be hung up "
            "or transferred.",
        )
        return redirect(call)
    return call


def _confirm(
    request: HttpRequest,
    call: selectors.CallWithTurns,
    action: str,
    form: TransferForm | None = None,
) -> HttpResponse:
    (row,) = rows_for(request, [call])  # masked numbers and the persona's name
    return page(
        request,
        "calls/confirm_control.html",
        {"nav": "list", "call": row, "action": action, "form": form},
    )


def _report(
    request: HttpRequest, call: Call, ask: Callable[[], control.ControlReply]
) -> HttpResponse:
    try:
        reply = ask()
    except control.ControlError as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        if reply.ok:
            messages.success(request, reply.message or "Done.")
        else:
            messages.error(request, reply.message or "The server refused.")
    return redirect(call)


@control_required
@require_http_methods(["GET", "POST"])
def hang_up(request: HttpRequest, call_sid: str) -> HttpResponse:
    call = _live_call(request, call_sid)
    if isinstance(call, HttpResponseRedirect):
        return call
    if request.method != "POST":
        return _confirm(request, call, "hangup")
    return _report(
        request,
        call,
        lambda: async_to_sync(control.hang_up)(
            call.call_sid, requested_by=requested_by(request)
        ),
    )


@control_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, call_sid: str) -> HttpResponse:
    call = _live_call(request, call_sid)
    if isinstance(call, HttpResponseRedirect):
        return call
    destinations = Persona.from_snapshot(call.assistant_snapshot or {}).tools.transfer
    if request.method != "POST":
        return _confirm(
            request, call, "transfer", TransferForm(destinations=destinations)
        )
    form = TransferForm(request.POST, destinations=destinations)
    if form.is_valid():
        refused = transfer_policy.refusal(
            form.cleaned_data["to"], call.assistant_snapshot
        )
        if refused:
            form.add_error("to", f"Not allowed: {refused}.")
    if not form.is_valid():
        response = _confirm(request, call, "transfer", form)
        response.status_code = 400
        return response
    return _report(
        request,
        call,
        lambda: async_to_sync(control.transfer)(
            call.call_sid,
            form.cleaned_data["to"],
            requested_by=requested_by(request),
            message=form.cleaned_data["message"],
        ),
    )
