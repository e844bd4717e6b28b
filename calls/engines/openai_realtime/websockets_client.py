"""The Realtime leg over ``websockets``: the only code here that touches it.

``connect()`` opens the GA endpoint with an explicit timeout and returns an
``EngineConnection``: send text, iterate received messages, close. Tests and the
benchmark inject their own ``connect`` with the same signature;
``connector.connector()`` picks this one or the faster picows one. No Django.

Reference: https://platform.openai.com/docs/guides/realtime-websocket
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from calls.engines.openai_realtime.limits import (
    CLOSE_TIMEOUT_SECONDS,
    MAX_MESSAGE_BYTES,
)


async def connect(
    url: str, *, headers: Mapping[str, str], open_timeout: float
) -> WebsocketsConnection:
    """Open a Realtime leg; raises (OSError, TimeoutError, InvalidStatus...) on failure.

    permessage-deflate is off: at 50 audio frames a second per direction it costs
    CPU and saves little on base64 audio.
    """
    ws = await ws_connect(
        url,
        additional_headers=dict(headers),
        compression=None,
        max_size=MAX_MESSAGE_BYTES,
        open_timeout=open_timeout,
        close_timeout=CLOSE_TIMEOUT_SECONDS,
    )
    return WebsocketsConnection(ws)


class WebsocketsConnection:
    """``EngineConnection`` over a websockets 15 ``ClientConnection``."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        await self._ws.send(text)

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        # Iteration ends when the connection closes, cleanly or not; the close
        # code and reason say which.
        try:
            async for message in self._ws:
                yield message
        except ConnectionClosed:
            return

    async def close(self) -> None:
        await self._ws.close()

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    @property
    def close_reason(self) -> str:
        return self._ws.close_reason or ""
