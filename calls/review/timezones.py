"""The viewer's time zone: chosen in the page header, kept in the session.

``TimezoneMiddleware`` activates it for each request (default ``settings.TIME_ZONE``),
so templates show every time in the viewer's zone. ``set_timezone`` is the header
form's target; it works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

SESSION_KEY = "viewer_timezone"


def day_bounds(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight at the start of ``day`` in ``tz`` (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.lru_cache(maxsize=64)
def timezone_options(selected: str) -> SafeString:
    """The header select's <option>s, built once per selected zone (~600 zones)."""
    return format_html_join(
        "",
        "<option{}>{}</option>",
        ((" selected" if name == selected else "", name) for name in timezone_names()),
    )


def valid_timezone(name: str) -> bool:
    return name in timezone_names()


class TimezoneMiddleware:
    """Activate the session's time zone (after the session middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        name = session.get(SESSION_KEY) if session is not None else None
        if name and valid_timezone(name):
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)


@require_POST
def set_timezone(request: HttpRequest) -> HttpResponse:
    """Store the chosen zone (an empty choice goes back to the default)."""
    name = request.POST.get("timezone", "")
    if valid_timezone(name):
        request.session[SESSION_KEY] = name
    else:
        request.session.pop(SESSION_KEY, None)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
