"""Is a Host header one this site answers to?"""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def host_is_allowed(host: str) -> bool:
    """Is ``host`` (a Host header, port included) one ``ALLOWED_HOSTS`` accepts?

    The same rule as ``HttpRequest.get_host()``: with DEBUG on and no
    ALLOWED_HOSTS, the local names are allowed.
    """
    domain, _port = split_domain_port(host)
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)
