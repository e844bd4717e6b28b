"""Who may do what on the call pages: one permission per kind of access.

- ``calls.view_call``: the call log, a call's page and transcript, the dashboard;
- ``calls.export_call``: download transcripts (``.json``/``.csv``);
- ``calls.view_live_call``: the live page and the live socket;
- ``calls.listen_live_call``: listen in to a call in progress;
- ``calls.control_call``: hang up and transfer calls in progress;
- ``calls.view_caller_number``: callers' full numbers (``masking``).
- ``calls.listen_recording``: play and download call recordings
  (``recording_views``).

Staff status plays no part: it only opens the admin. Superusers have every
permission. The groups "Supervisors" and "Agents" (migrations ``calls.0006`` and
``calls.0010``) hold sensible sets. A viewer without the permission gets the 403
page saying in words what it allows and which groups grant it (those the
database has, less the viewer's own); an anonymous one goes to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeAlias

from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

VIEW = "calls.view_call"
EXPORT = "calls.export_call"
VIEW_LIVE = "calls.view_live_call"
LISTEN_LIVE = "calls.listen_live_call"
CONTROL = "calls.control_call"
VIEW_NUMBERS = "calls.view_caller_number"
LISTEN_RECORDING = "calls.listen_recording"

# What each permission lets its holder do, for the 403 page.
DESCRIPTIONS = {
    VIEW: "view calls and their transcripts",
    EXPORT: "download calls and transcripts",
    VIEW_LIVE: "follow calls in progress live",
    LISTEN_LIVE: "listen in to calls in progress",
    CONTROL: "hang up and transfer calls in progress",
    VIEW_NUMBERS: "see callers' full phone numbers",
    LISTEN_RECORDING: "play and download call recordings",
}


# Which of the groups the migrations create grant each permission: what a
# message says where it cannot ask the database (the live socket's handlers).
STOCK_GROUPS = {
    VIEW: ("Supervisors", "Agents"),
    EXPORT: ("Supervisors",),
    VIEW_LIVE: ("Supervisors", "Agents"),
    LISTEN_LIVE: ("Supervisors",),
    CONTROL: ("Supervisors",),
    VIEW_NUMBERS: ("Supervisors",),
    LISTEN_RECORDING: ("Supervisors",),
}


# Who is looking: ``request.user`` (or a socket's scope user).
Viewer: TypeAlias = User | AnonymousUser


def has(user: Viewer, perm: str) -> bool:
    """Whether ``user`` is logged in, active and holds ``perm``."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(perm))


def granting_groups(perm: str, user: Viewer) -> tuple[str, ...]:
    """The groups that grant ``perm``, less those ``user`` is in (one query)."""
    app_label, _, codename = perm.partition(".")
    groups = Group.objects.filter(
        permissions__content_type__app_label=app_label,
        permissions__codename=codename,
    )
    if user.is_authenticated:
        groups = groups.exclude(user=user)
    return tuple(groups.order_by("name").values_list("name", flat=True).distinct())


def missing_message(perm: str, groups: tuple[str, ...] | None = None) -> str:
    """The 403 page's explanation: what the missing permission allows, in words,
    and how to get it. ``groups``: those that grant it (``granting_groups``);
    None: the stock groups that do. Its code comes last, for administrators."""
    what = DESCRIPTIONS.get(perm, perm)
    if groups is None:
        groups = STOCK_GROUPS.get(perm, ())
    if len(groups) == 1:
        ask = f"to add you to the {groups[0]} group, which has it, or to give it"
    elif groups:
        names = ", ".join(groups[:-1]) + f" or {groups[-1]}"
        ask = f"to add you to one of the groups {names}, or to give it"
    else:
        ask = "to give it"
    return (
        f"You need permission to {what} for this page. Ask an administrator "
        f"{ask} to your account (the admin lists it as “Can {what}”; code {perm})."
    )


P = ParamSpec("P")
View: TypeAlias = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def require(perm: str, *more: str) -> Callable[[View[P]], View[P]]:
    """Anonymous -> the login page (with ?next=); without a permission -> 403."""

    def decorator(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            for needed in (perm, *more):
                if not has(request.user, needed):
                    groups = granting_groups(needed, request.user)
                    raise PermissionDenied(missing_message(needed, groups))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
