"""Opening the live view's socket as a given user, without a server."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator

from calls.review.live import LiveCallsConsumer

PATH = "/ws/calls/live/"


async def open_socket(user: Any) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(LiveCallsConsumer.as_asgi(), PATH)
    # AuthMiddlewareStack's key, set directly as Channels' testing docs do; the
    # stubs' test scope TypedDict does not list it.
    communicator.scope["user"] = user  # type: ignore[typeddict-unknown-key]
    connected, _ = await communicator.connect()
    return communicator, connected
