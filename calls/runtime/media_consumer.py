"""MediaStreamConsumer: a Twilio media stream's socket, glued to its call runner.

On the upgrade it checks Twilio's signature and the stream token and claims the
call; then every frame goes to the call's ``CallRunner``, which performs what the
call state decides. The consumer also joins the call's control group, so a
hang-up or transfer from any process reaches the runner (``runtime.bus.control``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.db import database_sync_to_async as db
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from calls.conf import app_settings
from calls.engines.base import ConnectFn
from calls.engines.registry import UnknownEngine
from calls.runtime import shutdown
from calls.runtime.assembly import build_runner
from calls.runtime.bus import control, layer_failure, listen
from calls.runtime.consumer_loop import DirectReceiveLoop
from calls.runtime.runner import CallRunner
from calls.services.lifecycle import call_claim_stream, call_note_error
from calls.services.transfer import call_continuation
from calls.telephony import stream_token
from calls.telephony.account import auth
from calls.telephony.log_redaction import redact
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)


class MediaStreamConsumer(DirectReceiveLoop, AsyncWebsocketConsumer):
    """``/twilio/media-stream/<token>/``: one Twilio call <-> one engine session."""

    def __init__(
        self,
        *args: Any,
        connect_engine: ConnectFn | None = None,
        mark_interval_ms: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connect_engine = connect_engine
        self.mark_interval_ms = mark_interval_ms
        self.runner: CallRunner | None = None
        self.group = ""

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch runs aclose_old_connections() (a thread hop) before
        # every handler; audio frames touch no database, so they skip it.
        if message.get("type") == "websocket.receive" and self.runner is not None:
            text = message.get("text")
            if text is not None:
                await self.runner.twilio_text(text)
            else:
                await self.runner.twilio_binary(message.get("bytes") or b"")
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        runner = await self.authorize()
        if isinstance(runner, str):
            path = redact(self.scope["path"])  # the token stays out of logs
            logger.warning("refused media stream %s: %s", path, runner)
            await self.close()  # before accept(): the handshake fails (HTTP 403)
            return
        self.runner = runner
        try:
            await self.accept()
        except Exception as exc:
            # The upgrade was reset before it completed: end the call now as a
            # closed stream (its spool closed and removed), not "ringing" until
            # the sweeper calls it lost.
            logger.warning("call %s: upgrade aborted: %s", runner.call_sid, exc)
            self.runner = None
            await runner.twilio_closed()
            raise StopConsumer from exc
        if self.channel_layer is not None:
            await self.join_control_group(runner.call_sid)
        shutdown.register(runner, handle_sigterm=app_settings().calls_end_on_sigterm)
        await runner.start()

    async def join_control_group(self, call_sid: str) -> None:
        """Join the call's control group; if the channel layer is down the call
        goes on (audio never crosses it) and its record says what is missing."""
        assert self.channel_layer is not None
        group = control.group_name(call_sid)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception as exc:
            cause = layer_failure.describe(exc)
            logger.error("call %s goes on without call control: %s", call_sid, cause)
            note = (
                f"{cause[:1].upper()}{cause[1:]}: staff could not hang up, transfer, "
                "watch or listen to this call."
            )
            await db(call_note_error)(call_sid=call_sid, note=note)
            return
        self.group = group

    async def authorize(self) -> CallRunner | str:
        """The call's runner, or why the upgrade is refused."""
        if not auth.websocket_request_is_valid(self.scope):
            return "missing or invalid x-twilio-signature"
        token = self.scope["url_route"]["kwargs"].get("token", "")
        try:
            claims = stream_token.verify(
                token, secret=settings.SECRET_KEY, now=time.time()
            )
        except stream_token.InvalidToken as exc:
            return f"stream token {exc}"
        snapshot = await db(call_claim_stream)(
            call_sid=claims.call_sid, stream=claims.stream
        )
        if snapshot is None:
            return f"stream token for {claims.call_sid} already used, or call over"
        continuation = None
        if claims.stream > 1:  # the call goes on: seed it with what was said
            continuation = await db(call_continuation)(
                call_sid=claims.call_sid, stream=claims.stream, reason=claims.reason
            )
        # A call handed off before it was reopened goes on with that assistant.
        persona = (continuation and continuation.persona) or Persona.from_snapshot(
            snapshot
        )
        try:
            return build_runner(
                call_sid=claims.call_sid,
                persona=persona,
                twilio=self,
                connect=self.connect_engine,
                mark_interval_ms=self.mark_interval_ms,
                continuation=continuation,
            )
        except UnknownEngine as exc:
            return str(exc)

    async def disconnect(self, code: int) -> None:
        if self.runner is None:
            return
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        try:
            await self.runner.twilio_closed()
        finally:
            shutdown.unregister(self.runner)

    async def call_control(self, message: dict[str, Any]) -> None:
        """``call.control`` from the group: a hang-up or transfer for this call."""
        try:
            command = control.parse_command(message)
        except control.ControlError as exc:
            answer = control.ControlReply(False, str(exc))
        else:
            if self.runner is None:
                return
            answer = await self.runner.control(command)
        await control.reply(str(message.get("reply_to") or ""), answer)

    async def call_listen(self, message: dict[str, Any]) -> None:
        """``call.listen`` from the group: a viewer started or stopped listening."""
        parsed = listen.parse_listen(message)
        if parsed is not None and self.runner is not None:
            self.runner.listen(*parsed)

    # The runner's TwilioSide: send_text here, close() is Channels' own.

    async def send_text(self, text: str) -> None:
        # ASGI lets "bytes" be left out; asgiref's TypedDict wants both keys.
        await self.base_send({"type": "websocket.send", "text": text})  # type: ignore[arg-type]
