"""WebSocket routes: Twilio's media streams and the staff live view.

Anything else is accepted and closed at once with code 4404 (one INFO line), not
left to Channels' router, which raises for an unknown path: a 500 and a traceback
per upgrade.
"""

from __future__ import annotations

import logging

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from calls.review.live import LiveCallsConsumer
from calls.runtime.media_consumer import MediaStreamConsumer
from calls.websecurity.origin import PublicOriginValidator

logger = logging.getLogger(__name__)

NOT_FOUND_CLOSE_CODE = 4404


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any WebSocket path without a route: accept, then close with 4404."""

    async def connect(self) -> None:
        logger.info(
            "closed WebSocket upgrade for unknown path %.100r with %d",
            self.scope.get("path", ""),
            NOT_FOUND_CLOSE_CODE,
        )
        await self.accept()
        await self.close(code=NOT_FOUND_CLOSE_CODE)


websocket_urlpatterns = [
    # The token minted by the voice webhook is a path segment: Twilio drops query
    # strings, and knowing the call at the upgrade lets the Realtime leg open early.
    # django-stubs' path() accepts only HTTP views, not Channels' ASGI apps.
    path("twilio/media-stream/<str:token>/", MediaStreamConsumer.as_asgi()),  # type: ignore[arg-type]
    path(
        "ws/calls/live/",
        PublicOriginValidator(AuthMiddlewareStack(LiveCallsConsumer.as_asgi())),
    ),
    # re_path() has the same stub limit as path() above.
    re_path(r"", NotFoundConsumer.as_asgi()),  # type: ignore[arg-type]
]
