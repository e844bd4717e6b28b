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
permission. The groups "Supervisors" and "Agents" (migration ``calls.0006``) hold
sensible sets. A viewer without the permission gets the 403 page naming it;
an anonymous one goes to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeAlias

from django.contrib.auth.models import AnonymousUser, User
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


# Who is looking: ``request.user`` (or a socket's scope user).
Viewer: TypeAlias = User | AnonymousUser


def has(user: Viewer, perm: str) -> bool:
    """Whether ``user`` is logged in, active and holds ``perm``."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(perm))


def missing_message(perm: str) -> str:
    """The 403 page's explanation: which permission is missing, how to get it."""
    what = DESCRIPTIONS.get(perm, perm)
    return (
        f"You need the permission {perm} (“Can {what}”) for this page. "
        "Ask an administrator to add it to your account, or to add you to a "
        "group that has it (Supervisors or Agents)."
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
                    raise PermissionDenied(missing_message(needed))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
