"""Which WebSocket client opens the Realtime leg (``ENGINE_WS_CLIENT``). No Django."""

from __future__ import annotations

from calls.engines.base import ConnectFn
from calls.engines.openai_realtime.websockets_client import connect

CLIENTS = ("auto", "websockets", "picows")


def connector(name: str = "auto") -> ConnectFn:
    """The connect function for an ``ENGINE_WS_CLIENT`` value.

    "websockets" is ``websockets_client.connect``; "picows" the faster
    ``picows_client.connect`` (ImportError if picows is missing); "auto" picows
    when it is installed, else websockets.
    """
    if name not in CLIENTS:
        raise ValueError(f"Realtime WebSocket client must be one of {CLIENTS}")
    if name != "websockets":
        try:
            # Imported here, not at the top: picows is optional.
            from calls.engines.openai_realtime.picows_client import (
                connect as picows_connect,
            )
        except ImportError:
            if name == "picows":
                raise
        else:
            return picows_connect
    return connect
