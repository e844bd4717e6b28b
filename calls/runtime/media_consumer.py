"""MediaStreamConsumer: the glue between a Twilio media stream and a Realtime leg.

On the upgrade it checks Twilio's signature and the stream token, claims the call,
and (with ``REALTIME_CONNECT_ON_UPGRADE``) starts opening the Realtime leg. Every
frame from either side goes through the call's ``CallBridge``; the consumer only
performs the actions it returns. Database writes and live-view events go through
one writer task per call, so the audio path never waits on them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async as db
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from calls import services
from calls.callstate import CallBridge
from calls.callstate import actions as a
from calls.engines import openai_realtime as realtime
from calls.review import live_events
from calls.runtime.consumer_loop import DirectReceiveLoop
from calls.telephony import auth as twilio_auth
from calls.telephony import stream_token

logger = logging.getLogger(__name__)

# How long the end of a call waits for queued database writes.
WRITER_DRAIN_SECONDS = 10.0


def now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class MediaStreamConsumer(DirectReceiveLoop, AsyncWebsocketConsumer):
    """``/twilio/media-stream/<token>/``: one Twilio call <-> one Realtime session."""

    def __init__(
        self,
        *args: Any,
        connect_realtime: realtime.ConnectFn | None = None,
        mark_interval_ms: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connect_realtime = connect_realtime or realtime.connector(
            settings.REALTIME_WS_CLIENT
        )
        if mark_interval_ms is None:
            mark_interval_ms = settings.MEDIA_MARK_INTERVAL_MS
        self.mark_interval_ms = mark_interval_ms
        self.bridge: CallBridge | None = None
        self.call_sid = ""
        self.leg: realtime.RealtimeConnection | None = None
        self.leg_task: asyncio.Task[None] | None = None
        self.end_task: asyncio.Task[None] | None = None
        self.writes: asyncio.Queue[a.Action | None] = asyncio.Queue()
        self.writer_task: asyncio.Task[None] | None = None
        self.timers: set[asyncio.Task[None]] = set()
        self.twilio_open = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch runs aclose_old_connections() (a thread hop) before
        # every handler; audio frames touch no database, so they skip it.
        if message.get("type") == "websocket.receive":
            await self.on_frame(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        bridge = await self.authorize()
        if isinstance(bridge, str):
            logger.warning("refused media stream %s: %s", self.scope["path"], bridge)
            await self.close()  # before accept(): the handshake fails (HTTP 403)
            return
        self.bridge, self.call_sid = bridge, bridge.call_sid
        await self.accept()
        self.twilio_open = True
        self.writer_task = asyncio.create_task(self.writer())
        await self.perform(bridge.on_accepted(now_ms()))
        if settings.REALTIME_CONNECT_ON_UPGRADE:
            self.open_leg()

    async def authorize(self) -> CallBridge | str:
        """The call's bridge, or why the upgrade is refused."""
        if not twilio_auth.websocket_request_is_valid(self.scope):
            return "missing or invalid x-twilio-signature"
        token = self.scope["url_route"]["kwargs"].get("token", "")
        secret = settings.SECRET_KEY
        try:
            claims = stream_token.verify(token, secret=secret, now=time.time())
        except stream_token.InvalidToken as exc:
            return f"stream token {exc}"
        snapshot = await db(services.call_claim_stream)(call_sid=claims.call_sid)
        if snapshot is None:
            return f"stream token for {claims.call_sid} already used, or call over"
        return CallBridge(
            call_sid=claims.call_sid,
            snapshot=snapshot,
            mark_interval_ms=self.mark_interval_ms,
        )

    async def on_frame(self, message: dict[str, Any]) -> None:
        if self.bridge is None:
            return
        text = message.get("text")
        try:
            if text is not None:
                actions = self.bridge.on_twilio_text(text, now_ms())
            else:
                actions = self.bridge.on_twilio_binary(message.get("bytes") or b"")
        except Exception as exc:
            # A bug of ours: end the call cleanly (recorded, caller hears the
            # TwiML apology) instead of dropping the socket unrecorded.
            logger.exception("call %s: failed on a Twilio frame", self.call_sid)
            actions = self.bridge.end(a.STREAM_CLOSED, f"internal error: {exc!r}")
        if actions:
            await self.perform(actions)

    async def disconnect(self, code: int) -> None:
        self.twilio_open = False
        if self.bridge is None:
            return
        await self.perform(self.bridge.on_twilio_closed(now_ms()))
        if self.end_task is not None:
            await asyncio.shield(self.end_task)

    async def perform(self, actions: list[a.Action]) -> None:
        for action in actions:
            # The two sends are 50 a second each way: test them first.
            if isinstance(action, a.SendRealtime):
                await self.send_realtime(action.text)
            elif isinstance(action, a.SendTwilio):
                await self.send_twilio(action.text)
            elif isinstance(action, a.StartTimer):
                self.start_timer(action)
            elif isinstance(action, a.EndCall):
                if self.end_task is None:
                    self.end_task = asyncio.create_task(self.end(action))
            elif isinstance(action, a.ToolCall):
                await self.handle_tool_call(action)
            else:
                if isinstance(action, a.CallStarted) and self.leg_task is None:
                    self.open_leg()
                self.writes.put_nowait(action)

    async def send_twilio(self, text: str) -> None:
        if self.twilio_open:
            await self.base_send({"type": "websocket.send", "text": text})

    async def send_realtime(self, text: str) -> None:
        leg = self.leg
        if leg is None:
            return
        try:
            await leg.send(text)
        except Exception as exc:  # the reader reports the close
            logger.debug("call %s: Realtime send failed: %r", self.call_sid, exc)

    async def handle_tool_call(self, call: a.ToolCall) -> None:
        """The tool dispatcher's seam. No tools are configured yet."""
        logger.info("call %s: no tools configured; ignored %r", self.call_sid, call)

    def open_leg(self) -> None:
        self.leg_task = asyncio.create_task(self.run_leg())

    async def run_leg(self) -> None:
        bridge = self.bridge
        assert bridge is not None
        leg = await self.open_connection(bridge)
        if leg is None:
            return
        self.leg = leg
        try:
            await self.perform(bridge.on_realtime_open(now_ms()))
            async for message in leg:
                actions = bridge.on_realtime_text(message, now_ms())
                if actions:
                    await self.perform(actions)
        except Exception:
            # Our bug, not the peer's garbage (the bridge absorbs that): end the
            # call cleanly rather than leave the caller in silence.
            logger.exception("call %s: Realtime reader failed", self.call_sid)
        finally:
            if bridge.ended:  # cancelled by end(): never leave the socket open
                await self.close_leg_socket()
        await self.perform(
            bridge.on_realtime_closed(leg.close_code, leg.close_reason, now_ms())
        )

    async def open_connection(
        self, bridge: CallBridge
    ) -> realtime.RealtimeConnection | None:
        if not settings.OPENAI_API_KEY:
            logger.error("call %s: OPENAI_API_KEY is not set", self.call_sid)
            await self.perform(bridge.on_realtime_failed("OPENAI_API_KEY is not set"))
            return None
        url = realtime.build_url(settings.OPENAI_REALTIME_URL, bridge.model)
        headers = realtime.auth_headers(
            settings.REALTIME_PROVIDER, settings.OPENAI_API_KEY
        )
        timeout = settings.REALTIME_CONNECT_TIMEOUT
        started = now_ms()
        try:
            async with asyncio.timeout(timeout):
                leg = await self.connect_realtime(
                    url, headers=headers, open_timeout=timeout
                )
        except Exception as exc:  # any failure to open ends the call
            detail = str(exc) or f"{type(exc).__name__} after {timeout:g} s"
            logger.warning(
                "call %s: Realtime connect to %s failed: %s", self.call_sid, url, detail
            )
            await self.perform(bridge.on_realtime_failed(detail))
            return None
        logger.info(
            "call %s: Realtime leg open in %d ms", self.call_sid, now_ms() - started
        )
        return leg

    def start_timer(self, timer: a.StartTimer) -> None:
        task = asyncio.create_task(self.fire(timer.name, timer.delay_ms / 1000))
        self.timers.add(task)
        task.add_done_callback(self.timers.discard)

    async def fire(self, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.bridge is not None:
            await self.perform(self.bridge.on_timer(name, now_ms()))

    async def end(self, action: a.EndCall) -> None:
        """Close both legs at once, then record how the call ended."""
        logger.info(
            "call %s: ending (%s) %s", self.call_sid, action.reason, action.error
        )
        for task in list(self.timers):
            task.cancel()
        if self.twilio_open:  # first: the caller should not wait on OpenAI
            self.twilio_open = False
            await self.record_end_reason(action)
            await self.close(code=action.close_code)
        await self.close_leg()
        await self.drain_writer()
        bad_frames = self.bridge.bad_frames if self.bridge else 0
        try:
            call = await db(services.call_finish)(
                call_sid=self.call_sid,
                end_reason=action.reason,
                error=action.error,
                bad_frames=bad_frames,
            )
            if call is not None:
                payload = live_events.call_payload(call)
                await live_events.publish_call(payload, state="ended")
        except Exception:
            logger.exception("call %s: could not record the end", self.call_sid)

    async def record_end_reason(self, action: a.EndCall) -> None:
        # Twilio fetches the <Connect action> as soon as the socket closes, and
        # its answer depends on this reason: one quick UPDATE before closing.
        try:
            await db(services.call_record_end_reason)(
                call_sid=self.call_sid, end_reason=action.reason, error=action.error
            )
        except Exception:
            logger.exception("call %s: could not record the end reason", self.call_sid)

    async def close_leg(self) -> None:
        await self.close_leg_socket()
        if self.leg_task is not None and not self.leg_task.done():
            self.leg_task.cancel()
            await asyncio.gather(self.leg_task, return_exceptions=True)

    async def close_leg_socket(self) -> None:
        if self.leg is not None:
            try:
                await self.leg.close()
            except Exception as exc:  # closing is best effort
                logger.debug("call %s: Realtime close: %r", self.call_sid, exc)

    async def drain_writer(self) -> None:
        if self.writer_task is None:
            return
        self.writes.put_nowait(None)
        try:
            await asyncio.wait_for(self.writer_task, WRITER_DRAIN_SECONDS)
        except TimeoutError:
            logger.error("call %s: transcript writes did not finish", self.call_sid)

    async def writer(self) -> None:
        while (action := await self.writes.get()) is not None:
            try:
                await self.record(action)
            except Exception:
                logger.exception("call %s: could not record %r", self.call_sid, action)

    async def record(self, action: a.Action) -> None:
        sid = self.call_sid
        if isinstance(action, a.SaveTranscript):
            entry = await db(services.transcript_entry_add)(
                call_sid=sid, **action.kwargs()
            )
            await live_events.publish_transcript(sid, live_events.entry_payload(entry))
        elif isinstance(action, a.SetLatency):
            await db(services.transcript_entry_set_latency)(
                call_sid=sid, **action.kwargs()
            )
        elif isinstance(action, a.AddUsage):
            await db(services.call_add_usage)(call_sid=sid, usage=action.usage)
        elif isinstance(action, a.CallStarted):
            call = await db(services.call_mark_started)(
                call_sid=sid, stream_sid=action.stream_sid
            )
            payload = live_events.call_payload(call)
            await live_events.publish_call(payload, state="started")
