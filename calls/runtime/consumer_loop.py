"""``DirectReceiveLoop``: Channels' consumer loop without a task per message.

``AsyncConsumer.__call__`` waits on the client and the channel layer together
(``channels.utils.await_many_dispatch``), creating a task and an ``asyncio.wait``
for every message. A media stream receives 50 frames a second per call, so that
overhead is paid on every frame of every call (``make bench`` shows it). This mixin
reads the client in a plain loop and the channel layer (group messages) on a task
of its own; handlers and ``dispatch`` are unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.consumer import AsyncConsumer
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class DirectReceiveLoop(AsyncConsumer):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        self.base_send = send
        layer = get_channel_layer(self.channel_layer_alias)
        # None when no layer is configured, as in Channels' own loop (whose stubs
        # declare the attribute non-optional).
        self.channel_layer = layer  # type: ignore[assignment]
        layer_task = None
        if layer is not None:
            self.channel_name = await layer.new_channel()
            layer_task = asyncio.create_task(self._read_channel_layer())
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            if layer_task is not None:
                layer_task.cancel()

    async def _read_channel_layer(self) -> None:
        assert self.channel_layer is not None
        try:
            while True:
                message = await self.channel_layer.receive(self.channel_name)
                await self.dispatch(message)
        except StopConsumer:
            pass
        except Exception:
            # The socket's own loop goes on (audio never crosses the layer); only
            # group messages are lost, so say so instead of dying silently.
            logger.exception(
                "channel layer reader for %s failed; group messages stop here",
                self.channel_name,
            )
