"""``PrivatePagesMiddleware``: call pages and downloads are never cached.

A call's page, its transcript download and the call log carry callers' words and
numbers: ``Cache-Control: private, no-store`` keeps them out of shared proxies and
the browser's disk cache (a shared computer's next user, the back button after
logging out).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

PRIVATE_PREFIXES = ("/calls/", "/dashboard/")
PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(PRIVATE_PREFIXES):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response
