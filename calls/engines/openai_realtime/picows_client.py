"""The Realtime leg over picows, a Cython WebSocket client: same interface, less CPU.

Each call sends and receives 50 audio messages a second on this leg. With
``websockets`` every message goes through its pure-Python framing, an
assembler and a reader task; picows frames in C and calls us back per frame, so
the leg costs much less CPU (docs/performance-results.md). Optional:
``connector.connector()`` uses it when ``picows`` is installed (``ENGINE_WS_CLIENT``
"auto" or "picows") and ``websockets`` otherwise. No Django.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

from picows import WSCloseCode, WSListener, WSMsgType, WSTransport, ws_connect

from calls.engines.openai_realtime.limits import (
    CLOSE_TIMEOUT_SECONDS,
    MAX_MESSAGE_BYTES,
)

PING_IDLE_SECONDS = 20.0  # like websockets' keepalive: ping when quiet, expect a pong
ABNORMAL_CLOSURE = 1006  # what websockets reports for a connection lost without close


class _Listener(WSListener):
    """picows' callbacks, turned into a queue of messages and a close code."""

    def __init__(self, connection: PicowsConnection) -> None:
        self.connection = connection
        self.fragments: list[bytes] = []
        self.fragments_size = 0
        self.text = True  # the type of the message being reassembled

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.CLOSE:
            self.connection.closed_by_peer(frame.get_close_code(), frame)
            if not transport.is_close_frame_sent:
                transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif kind in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION):
            self._data(transport, frame)

    def _data(self, transport: WSTransport, frame: Any) -> None:
        if frame.fin and not self.fragments:
            payload = frame.get_payload_as_bytes()
            self.connection.deliver(payload, frame.msg_type == WSMsgType.TEXT)
            return
        if frame.msg_type != WSMsgType.CONTINUATION:
            self.text = frame.msg_type == WSMsgType.TEXT
        self.fragments.append(frame.get_payload_as_bytes())
        self.fragments_size += frame.payload_size
        if self.fragments_size > MAX_MESSAGE_BYTES:
            transport.send_close(WSCloseCode.MESSAGE_TOO_BIG)
            transport.disconnect()
        elif frame.fin:
            payload = b"".join(self.fragments)
            self.fragments, self.fragments_size = [], 0
            self.connection.deliver(payload, self.text)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.connection.disconnected()

    def pause_writing(self) -> None:
        self.connection.writable.clear()

    def resume_writing(self) -> None:
        self.connection.writable.set()


class PicowsConnection:
    """``EngineConnection`` over a picows client transport."""

    def __init__(self) -> None:
        self.transport: WSTransport | None = None
        self._messages: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.writable = asyncio.Event()
        self.writable.set()
        self._close_code: int | None = None
        self._close_reason = ""

    # What the listener reports.

    def deliver(self, payload: bytes, text: bool) -> None:
        self._messages.put_nowait(payload.decode() if text else payload)

    def closed_by_peer(self, code: int | None, frame: Any) -> None:
        if self._close_code is None:
            self._close_code = int(code) if code is not None else ABNORMAL_CLOSURE
            self._close_reason = frame.get_close_message().decode("utf-8", "replace")

    def disconnected(self) -> None:
        if self._close_code is None:
            self._close_code = ABNORMAL_CLOSURE
        self.writable.set()
        self._messages.put_nowait(None)

    # EngineConnection.

    async def send(self, text: str) -> None:
        if not self.writable.is_set():  # the peer reads slowly: like a drain
            await self.writable.wait()
        transport = self.transport
        if transport is None or transport.is_disconnected:
            raise ConnectionError("the Realtime connection is closed")
        transport.send(WSMsgType.TEXT, text.encode())

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        while (message := await self._messages.get()) is not None:
            yield message

    async def close(self) -> None:
        transport = self.transport
        if transport is None or transport.is_disconnected:
            return
        if self._close_code is None:
            self._close_code = int(WSCloseCode.OK.value)
        transport.send_close(WSCloseCode.OK)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await transport.wait_disconnected()
        except TimeoutError:
            transport.disconnect()

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def close_reason(self) -> str:
        return self._close_reason


async def connect(
    url: str, *, headers: Mapping[str, str], open_timeout: float
) -> PicowsConnection:
    """Open a Realtime leg with picows; raises (OSError, picows.WSError...).

    Cancel-safe: picows' own ``ws_connect`` leaves its socket open when cancelled
    while it waits for the handshake (a billed Realtime session that nobody uses).
    So it runs as a shielded inner task over a socket we open ourselves: on
    cancellation a socket still connecting is closed by us, a socket already
    handed to picows is shut down (the server sees the close at once and picows'
    handshake fails and cleans up), and a handshake that completes anyway is
    closed as soon as it does.
    """
    opener = _SocketOpener()
    connection = PicowsConnection()
    inner = asyncio.ensure_future(
        ws_connect(
            lambda: _Listener(connection),
            url,
            extra_headers=dict(headers),
            websocket_handshake_timeout=open_timeout,
            max_frame_size=MAX_MESSAGE_BYTES,
            enable_auto_ping=True,
            auto_ping_idle_timeout=PING_IDLE_SECONDS,
            auto_ping_reply_timeout=PING_IDLE_SECONDS,
            socket_factory=opener.open,
            # aiofastnet's transport, abandoned mid-connect, left a closed fd
            # registered with the event loop's selector (FileNotFoundError on a
            # later socket); asyncio's own transport cleans up.
            use_aiofastnet=False,
        )
    )
    try:
        transport, _ = await asyncio.shield(inner)
    except asyncio.CancelledError:
        opener.abandon(inner)
        raise
    connection.transport = transport
    return connection


class _SocketOpener:
    """picows' ``socket_factory``: resolves and connects the leg's TCP socket, and
    remembers it so an abandoned connect can be torn down."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.handed_over = False

    async def open(self, parsed_url: Any) -> socket.socket:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            parsed_url.host,
            parsed_url.port,
            type=socket.SOCK_STREAM,
            flags=socket.AI_NUMERICHOST if _is_ip(parsed_url.host) else 0,
        )
        error: OSError | None = None
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            self.sock = sock
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, address)
            except BaseException as exc:
                # After the loop has unregistered the fd (a callback already
                # queued), so a new socket reusing the number is not confused.
                loop.call_soon(sock.close)
                self.sock = None
                if not isinstance(exc, OSError):
                    raise  # cancelled: nothing is left open
                error = exc
                continue
            self.handed_over = True
            return sock
        raise error or OSError(f"no address for {parsed_url.host}")

    def abandon(self, inner: asyncio.Future[Any]) -> None:
        """Our caller was cancelled: leave nothing open, whatever ``inner`` does."""
        inner.add_done_callback(_close_if_opened)
        if not self.handed_over:
            inner.cancel()  # still in ``open``, which closes its own socket
            return
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by picows
                sock.shutdown(socket.SHUT_RDWR)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _close_if_opened(inner: asyncio.Future[Any]) -> None:
    """Done callback of an abandoned connect: close it if it opened after all."""
    if inner.cancelled() or inner.exception() is not None:
        return  # picows closed what it opened when it failed
    transport, _ = inner.result()
    if not transport.is_disconnected:
        transport.send_close(WSCloseCode.GOING_AWAY)
        transport.disconnect()
