"""ASGI entry point: HTTP through Django, WebSockets through Channels routing.

Serve with ``daphne voiceassistant.asgi:application``.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceassistant.settings")

from calls.telephony.log_redaction import install_daphne_access_log_redaction

# daphne builds its access log after importing this module: no tokens in it.
install_daphne_access_log_redaction()
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from calls.routing import websocket_urlpatterns  # noqa: E402
from calls.runtime.sweeper import StartSweeper  # noqa: E402
from calls.telephony.body_limit import TwilioBodyLimit  # noqa: E402

# Each serving process sweeps calls a dead process left open (runtime.sweeper).
application = StartSweeper(
    ProtocolTypeRouter(
        {
            # Twilio's endpoints refuse oversized bodies before Django reads them.
            "http": TwilioBodyLimit(django_asgi_app),
            # types-channels wants list[_ExtendedURLPattern | URLRouter] (invariant);
            # path() can only be typed as returning a plain URLPattern.
            "websocket": URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]
        }
    )
)
