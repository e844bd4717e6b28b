"""WebSocket routes: Twilio's media streams and the staff live view."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from calls.review.live import LiveCallsConsumer
from calls.runtime.media_consumer import MediaStreamConsumer

websocket_urlpatterns = [
    # The token minted by the voice webhook is a path segment: Twilio drops query
    # strings, and knowing the call at the upgrade lets the Realtime leg open early.
    # django-stubs' path() accepts only HTTP views, not Channels' ASGI apps.
    path("twilio/media-stream/<str:token>/", MediaStreamConsumer.as_asgi()),  # type: ignore[arg-type]
    path(
        "ws/calls/live/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(LiveCallsConsumer.as_asgi())),
    ),
]
