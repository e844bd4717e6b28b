"""``LiveCallsConsumer``: calls in progress and their transcripts, pushed to staff.

Fed by the channel layer (``calls.runtime.bus.live_events``): every viewer joins
``LIVE_CALLS_GROUP`` and, per ``{"subscribe": "<CallSid>"}``, that call's group. The
events carry full numbers; each viewer's copy is masked per ``masking.can_see_numbers``.
Messages to the browser (JSON, ``type`` first):

- ``snapshot``: ``calls`` in progress when the socket opened;
- ``call``: ``state`` (started/updated/ended) and the ``call``;
- ``call_transcript``: a subscribed call's ``call`` and its ``entries`` so far
  (only a call in progress, and only for holders of ``calls.view_call``, as on
  the call page; an ended call's transcript is the call page's);
- ``transcript``: one new ``entry`` of a subscribed call (``call_sid``);
- ``transcript_delta``: a subscribed call's assistant words as generated
  (``call_sid``, ``seq``, ``text``); the ``transcript`` entry of that ``seq`` is final;
- ``listening``: ``call_sid`` and ``on``, the answer to ``{"listen": "<CallSid>"}``
  or ``{"unlisten": ...}`` (needs ``calls.listen_live_call``, re-checked with the
  login: taken away, the listen ends);
- ``audio``: a listened call's audio since the last one, both sides (``caller``,
  ``assistant``: lists of base64 mu-law, ``cleared``; see ``calls.runtime.bus.listen``);
- ``error``: ``error`` text, e.g. for an unknown call.

A subscribed call's ``call`` events reach the viewer through both of its groups, so
they can arrive twice; the browser applies them idempotently (keyed by CallSid).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AnonymousUser, User

from calls.models import Call
from calls.privacy import masking
from calls.review import live_sessions, permissions, selectors
from calls.review.tool_rows import shown_transfer_to
from calls.review.transfer_numbers import NumberRule
from calls.runtime.bus import control, listen
from calls.runtime.bus.live_events import LIVE_CALLS_GROUP, call_group
from calls.telephony import identifiers

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 20
MAX_LISTENS = 2
MAX_SID_LENGTH = 64
# Close code when the viewer's login ended (logout, deactivation, lost permission).
SESSION_ENDED_CLOSE_CODE = 4401


def _is_live(call_sid: str) -> bool:
    return Call.objects.filter(call_sid=call_sid, ended_at__isnull=True).exists()


def _grants(user: User | AnonymousUser) -> tuple[bool, bool]:
    """May ``user`` read transcripts (the call page's rule) and listen in?"""
    return (
        permissions.has(user, permissions.VIEW),
        permissions.has(user, permissions.LISTEN_LIVE),
    )


class LiveCallsConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: set[str]
    show_numbers: bool = False

    async def connect(self) -> None:
        self.groups_joined = set()
        self.subscriptions: set[str] = set()
        self.listening: set[str] = set()  # calls this viewer listens in to
        self.renewer: asyncio.Task[None] | None = None
        # Told to the runner in order: a renewal never lands after its "off".
        self.runner_lock = asyncio.Lock()
        self.can_read_transcripts = False
        # AuthMiddlewareStack's lazy auth.User (or AnonymousUser); the stubs say
        # AbstractBaseUser, which has no is_active.
        user = cast("User | AnonymousUser | None", self.scope.get("user"))
        allowed = user is not None and await database_sync_to_async(permissions.has)(
            user, permissions.VIEW_LIVE
        )
        if user is None or not allowed:
            # Closing before accept() refuses the handshake (HTTP 403).
            await self.close()
            return
        self.show_numbers = await database_sync_to_async(masking.can_see_numbers)(user)
        self.can_read_transcripts, _ = await database_sync_to_async(_grants)(user)
        # Join before reading the snapshot, so no event falls in between.
        await self._join(LIVE_CALLS_GROUP)
        await self._watch_session(user)
        await self.accept()
        calls = await database_sync_to_async(selectors.live_call_payloads)()
        await self.send_json(
            {"type": "snapshot", "calls": [self._masked(c) for c in calls]}
        )

    async def disconnect(self, code: int) -> None:
        self._stop_rechecks()
        renewer: asyncio.Task[None] | None = getattr(self, "renewer", None)
        if renewer is not None:
            renewer.cancel()
        for call_sid in list(getattr(self, "listening", ())):
            await self._tell_runner(call_sid, on=False)
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A garbled message from a browser is ignored, not a crashed socket.
        try:
            return await super().decode_json(text_data)
        except ValueError:
            logger.debug("live viewer sent invalid JSON: %.80r", text_data)
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        if isinstance(content.get("listen"), str):
            await self._listen(content["listen"][:MAX_SID_LENGTH])
        elif isinstance(content.get("unlisten"), str):
            await self._unlisten(content["unlisten"][:MAX_SID_LENGTH])
        elif isinstance(content.get("subscribe"), str):
            await self._subscribe(content["subscribe"][:MAX_SID_LENGTH])
        elif isinstance(content.get("unsubscribe"), str):
            await self._unsubscribe(content["unsubscribe"][:MAX_SID_LENGTH])

    async def live_call(self, event: dict[str, Any]) -> None:
        """A call started, changed or ended (``live_events.CALL_EVENT``)."""
        await self.send_json(
            {
                "type": "call",
                "state": event.get("state", "updated"),
                "call": self._masked(event.get("call") or {}),
            }
        )

    async def live_transcript(self, event: dict[str, Any]) -> None:
        """A turn was written (``live_events.TRANSCRIPT_EVENT``)."""
        if event.get("call_sid") not in self.subscriptions:
            return
        if not self.can_read_transcripts:
            return
        await self.send_json(
            {
                "type": "transcript",
                "call_sid": event["call_sid"],
                "entry": self._shown_entry(event.get("entry") or {}),
            }
        )

    async def live_delta(self, event: dict[str, Any]) -> None:
        """The assistant's words as generated (``live_events.DELTA_EVENT``)."""
        if event.get("call_sid") not in self.subscriptions:
            return
        if not self.can_read_transcripts:
            return
        await self.send_json(
            {
                "type": "transcript_delta",
                "call_sid": event["call_sid"],
                "seq": event.get("seq"),
                "text": event.get("text") or "",
            }
        )

    async def listen_audio(self, event: dict[str, Any]) -> None:
        """A batch of a listened call's audio (``calls.runtime.bus.listen``)."""
        if event.get("call_sid") not in self.listening:
            return
        await self.send_json(
            {
                "type": "audio",
                "call_sid": event["call_sid"],
                "seq": event.get("seq"),
                "caller": event.get("caller") or [],
                "assistant": event.get("assistant") or [],
                "cleared": bool(event.get("cleared")),
            }
        )

    async def _listen(self, call_sid: str) -> None:
        if not await self._still_allowed():
            return
        # The fresh row _still_allowed put there (see connect for the cast).
        user = cast("User | AnonymousUser | None", self.scope.get("user"))
        allowed = user is not None and await database_sync_to_async(permissions.has)(
            user, permissions.LISTEN_LIVE
        )
        if not allowed:
            missing = permissions.missing_message(permissions.LISTEN_LIVE)
            await self.send_json({"type": "error", "error": missing})
            return
        if call_sid in self.listening:
            return
        if len(self.listening) >= MAX_LISTENS:
            await self.send_json({"type": "error", "error": "listening to too many"})
            return
        try:
            group = listen.listen_group(call_sid)
        except control.ControlError:
            await self.send_json({"type": "error", "error": "unknown call"})
            return
        if not await database_sync_to_async(_is_live)(call_sid):
            await self.send_json({"type": "error", "error": "that call is not live"})
            return
        self.listening.add(call_sid)
        await self._join(group)
        await self._tell_runner(call_sid, on=True)
        if self.renewer is None:
            self.renewer = asyncio.create_task(self._renew())
        await self.send_json({"type": "listening", "call_sid": call_sid, "on": True})

    async def _unlisten(self, call_sid: str) -> None:
        if call_sid not in self.listening:
            return
        self.listening.discard(call_sid)
        group = listen.listen_group(call_sid)
        self.groups_joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)
        await self._tell_runner(call_sid, on=False)
        await self.send_json({"type": "listening", "call_sid": call_sid, "on": False})

    async def _tell_runner(
        self, call_sid: str, *, on: bool, renewal: bool = False
    ) -> None:
        """The process holding the call relays audio only while told to.

        One message at a time, so an "off" is never overtaken by a renewal
        sent before it; a renewal of a listen that has ended is not sent.
        """
        message = {
            "type": listen.LISTEN_MESSAGE_TYPE,
            "listener": self.channel_name,
            "on": on,
        }
        async with self.runner_lock:
            if renewal and call_sid not in self.listening:
                return
            try:
                await self.channel_layer.group_send(
                    control.group_name(call_sid), message
                )
            except Exception:
                logger.exception("could not tell call %s about a listener", call_sid)

    async def _renew(self) -> None:
        # Renews only what the viewer still listens to; the re-check ends the
        # listens of a viewer whose listen_live_call was taken away.
        while True:
            await asyncio.sleep(listen.RENEW_SECONDS)
            for call_sid in list(self.listening):
                await self._tell_runner(call_sid, on=True, renewal=True)

    async def _subscribe(self, call_sid: str) -> None:
        if call_sid in self.subscriptions:
            return
        if not await self._still_allowed():
            return
        if not self.can_read_transcripts:
            missing = permissions.missing_message(permissions.VIEW)
            await self.send_json({"type": "error", "error": missing})
            return
        if not identifiers.is_call_sid(call_sid):  # never reaches the database
            await self.send_json({"type": "error", "error": "unknown call"})
            return
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self.send_json({"type": "error", "error": "too many subscriptions"})
            return
        found = await database_sync_to_async(selectors.call_transcript_payload)(
            call_sid
        )
        if found is None:
            await self.send_json({"type": "error", "error": "unknown call"})
            return
        if found["call"].get("ended_at") is not None:
            # Its transcript is the call page's. A page whose socket came back
            # after the end still learns that it ended.
            await self.send_json(
                {"type": "call", "state": "ended", "call": self._masked(found["call"])}
            )
            await self.send_json({"type": "error", "error": "that call is not live"})
            return
        self.subscriptions.add(call_sid)
        await self._join(call_group(call_sid))
        await self.send_json(
            {
                "type": "call_transcript",
                "call": self._masked(found["call"]),
                "entries": [self._shown_entry(e) for e in found["entries"]],
            }
        )

    async def _unsubscribe(self, call_sid: str) -> None:
        if call_sid not in self.subscriptions:
            return
        self.subscriptions.discard(call_sid)
        group = call_group(call_sid)
        # Two CallSids could share a group name only if they differ in dropped
        # characters; keep the group while another subscription still uses it.
        if all(call_group(sid) != group for sid in self.subscriptions):
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    # -- the viewer's login, re-checked (calls.review.live_sessions) -------------

    async def _watch_session(self, user: User | AnonymousUser) -> None:
        """Join the session's group (its logout closes us); start the re-checks."""
        self.user_pk = user.pk
        session = self.scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None)
        if self.session_key:
            await self._join(live_sessions.session_group(self.session_key))
        self.recheck_task: asyncio.Task[None] | None = asyncio.create_task(
            self._recheck_periodically()
        )

    async def _still_allowed(self) -> bool:
        """Is the viewer's login still good? If not, the socket closes (4401)."""
        user = await database_sync_to_async(live_sessions.current_staff)(
            self.user_pk, self.session_key
        )
        if user is None:
            logger.info("live view closed: its viewer's session or access ended")
            await self._end_session()
            return False
        # Later permission checks see the fresh row. The stubs allow only
        # AuthMiddleware's lazy wrapper here; the row answers the same.
        self.scope["user"] = user  # type: ignore[typeddict-item]
        self.show_numbers = await database_sync_to_async(masking.can_see_numbers)(user)
        await self._drop_what_is_no_longer_allowed(user)
        return True

    async def _drop_what_is_no_longer_allowed(self, user: User) -> None:
        """Transcripts need ``view_call``, listen-in ``listen_live_call``, now as
        when they started: what the viewer lost stops, and they are told why."""
        read, hear = await database_sync_to_async(_grants)(user)
        self.can_read_transcripts = read
        if self.subscriptions and not read:
            for call_sid in list(self.subscriptions):
                await self._unsubscribe(call_sid)
            missing = permissions.missing_message(permissions.VIEW)
            await self.send_json({"type": "error", "error": missing})
        if self.listening and not hear:
            logger.info("live view: listen-in ended, listen_live_call was removed")
            for call_sid in list(self.listening):
                await self._unlisten(call_sid)
            missing = permissions.missing_message(permissions.LISTEN_LIVE)
            await self.send_json({"type": "error", "error": missing})

    async def _recheck_periodically(self) -> None:
        while True:
            await asyncio.sleep(live_sessions.RECHECK_SECONDS)
            try:
                if not await self._still_allowed():
                    return
            except Exception:  # a database blip: try again next time
                logger.exception("live view: could not re-check its viewer")

    async def live_session_ended(self, event: dict[str, Any]) -> None:
        """``live.session_ended``: the viewer logged out (``notify_logged_out``)."""
        await self._end_session()

    async def _end_session(self) -> None:
        self._stop_rechecks()
        for call_sid in list(self.listening):  # no more audio for this viewer
            await self._unlisten(call_sid)
        await self.close(code=SESSION_ENDED_CLOSE_CODE)

    def _stop_rechecks(self) -> None:
        task = getattr(self, "recheck_task", None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    def _shown_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A transcript entry for this viewer: numbers in system rows (a
        transfer's destination) masked as on the call page."""
        text = entry.get("text")
        if entry.get("role") != "system" or not isinstance(text, str):
            return entry
        rule = NumberRule(show=self.show_numbers, redact=False)
        return {**entry, "text": rule.text(text)}

    def _masked(self, call: dict[str, Any]) -> dict[str, Any]:
        shown_from, shown_to = masking.shown_numbers(
            direction=call.get("direction", ""),
            from_number=call.get("from") or "",
            to_number=call.get("to") or "",
            show=self.show_numbers,
        )
        # A third party's number: masked like callers' (``tool_rows``).
        transfer_to = shown_transfer_to(
            call.get("transfer_to") or "", show=self.show_numbers
        )
        return {**call, "from": shown_from, "to": shown_to, "transfer_to": transfer_to}
