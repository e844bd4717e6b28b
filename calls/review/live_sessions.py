"""Is a live viewer's login still good? And telling its sockets when it ends.

``/ws/calls/live/`` checks its user at the upgrade; this module lets the consumer
check again later (on each subscription and every ``RECHECK_SECONDS``): the
session must still exist, unexpired, for the same user with the same password
hash, and the user must still hold ``calls.view_live_call``. Logging out tells
the sockets of that session at once, through a channel-layer group per session
(``notify_logged_out``, connected to ``user_logged_out`` in ``CallsConfig``).
"""

from __future__ import annotations

import hashlib
import logging
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from calls.review import permissions

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0
SESSION_ENDED_EVENT = "live.session_ended"


def session_group(session_key: str) -> str:
    """The group of a session's live sockets (a hash: the key itself is a secret)."""
    digest = hashlib.sha256(session_key.encode()).hexdigest()[:40]
    return f"live.session.{digest}"


def current_staff(user_pk: int | None, session_key: str | None) -> User | None:
    """The user, freshly read, if still allowed to watch; else None.

    ``session_key`` None: the socket had no session (tests set the user directly),
    so only the user is checked.
    """
    if user_pk is None:  # an anonymous viewer
        return None
    user = get_user_model().objects.filter(pk=user_pk).first()
    if user is None or not permissions.has(user, permissions.VIEW_LIVE):
        return None
    if session_key is None:
        return user
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()  # {} when the session is gone or expired
    if str(data.get(SESSION_KEY, "")) != str(user.pk):
        return None
    if not constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return None  # the password changed since this login
    return user


def notify_logged_out(
    sender: type[User],
    request: HttpRequest | None,
    user: User | None,
    **kwargs: object,
) -> None:
    """``user_logged_out`` receiver: close that session's live sockets now."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    layer = get_channel_layer()
    if not key or layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            session_group(key), {"type": SESSION_ENDED_EVENT}
        )
    except Exception:  # the logout itself must still succeed
        logger.exception("could not close the live sockets of a logged-out session")
