from __future__ import annotations

import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from calls import checks  # noqa: F401  (registers the system checks)
        from calls.review.live_sessions import notify_logged_out

        # Logging out closes that session's live sockets at once.
        user_logged_out.connect(notify_logged_out, dispatch_uid="calls.live_logout")
        if not settings.TWILIO_AUTH_TOKEN:
            if settings.DEBUG:
                logger.warning(
                    "TWILIO_AUTH_TOKEN is not set: Twilio signatures are NOT "
                    "checked. This is allowed only because DEBUG is on."
                )
            else:
                logger.error(
                    "TWILIO_AUTH_TOKEN is not set and DEBUG is off: the Twilio "
                    "endpoints answer 503 until it is configured."
                )
