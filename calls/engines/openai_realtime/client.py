"""The thin Realtime WebSocket client: the only code that touches ``websockets``.

``connect()`` opens the GA endpoint with an explicit timeout and returns a
``RealtimeConnection``: send text, iterate received messages, close. Tests and the
benchmark inject their own ``connect`` with the same signature; ``connector()``
picks this one or the faster optional picows one (``picows_client``). No Django.

Reference: https://platform.openai.com/docs/guides/realtime-websocket
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

# Server events are mostly small; response.done and long audio deltas are the
# biggest (tens of KiB). 4 MiB leaves room without letting a peer exhaust memory.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_SECONDS = 2.0


class RealtimeConnection(Protocol):
    """What the consumer needs from a Realtime leg (real or fake)."""

    async def send(self, text: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...

    async def close(self) -> None: ...

    @property
    def close_code(self) -> int | None: ...

    @property
    def close_reason(self) -> str: ...


class ConnectFn(Protocol):
    async def __call__(
        self, url: str, *, headers: Mapping[str, str], open_timeout: float
    ) -> RealtimeConnection: ...


CLIENTS = ("auto", "websockets", "picows")


def connector(name: str = "auto") -> ConnectFn:
    """The connect function for a ``REALTIME_WS_CLIENT`` value.

    "websockets" is this module's ``connect``; "picows" the faster optional
    ``picows_client.connect`` (ImportError if picows is missing); "auto" picows
    when it is installed, else websockets.
    """
    if name not in CLIENTS:
        raise ValueError(f"Realtime WebSocket client must be one of {CLIENTS}")
    if name != "websockets":
        try:
            from calls.engines.openai_realtime.picows_client import (
                connect as picows_connect,
            )
        except ImportError:
            if name == "picows":
                raise
        else:
            return picows_connect
    return connect


def build_url(base_url: str, model: str) -> str:
    """``base_url`` plus ``model=<model>`` (``&`` if it already has a query)."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}model={quote(model, safe='')}"


def auth_headers(provider: str, api_key: str) -> dict[str, str]:
    """OpenAI takes a Bearer token; Azure OpenAI's GA endpoint takes ``api-key``."""
    if provider == "azure":
        return {"api-key": api_key}
    return {"Authorization": f"Bearer {api_key}"}


async def connect(
    url: str, *, headers: Mapping[str, str], open_timeout: float
) -> RealtimeConnection:
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
    """``RealtimeConnection`` over a websockets 15 ``ClientConnection``."""

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
