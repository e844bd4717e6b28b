"""``LiveCallsConsumer``: calls in progress and their transcripts, pushed to staff.

Fed by the channel layer (``calls.review.live_events``): every viewer joins
``LIVE_CALLS_GROUP`` and, per ``{"subscribe": "<CallSid>"}``, that call's group. The
events carry full numbers; each viewer's copy is masked per ``masking.can_see_numbers``.
Messages to the browser (JSON, ``type`` first):

- ``snapshot``: ``calls`` in progress when the socket opened;
- ``call``: ``state`` (started/updated/ended) and the ``call``;
- ``call_transcript``: a subscribed call's ``call`` and its ``entries`` so far;
- ``transcript``: one new ``entry`` of a subscribed call (``call_sid``);
- ``error``: ``error`` text, e.g. for an unknown call.

A subscribed call's ``call`` events reach the viewer through both of its groups, so
they can arrive twice; the browser applies them idempotently (keyed by CallSid).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AnonymousUser, User

from calls.review import masking, selectors
from calls.review.live_events import LIVE_CALLS_GROUP, call_group

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 20
MAX_SID_LENGTH = 64


class LiveCallsConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: set[str]
    show_numbers: bool = False

    async def connect(self) -> None:
        self.groups_joined = set()
        self.subscriptions: set[str] = set()
        # AuthMiddlewareStack's lazy auth.User (or AnonymousUser); the stubs say
        # AbstractBaseUser, which has no is_staff.
        user = cast("User | AnonymousUser | None", self.scope.get("user"))
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            # Closing before accept() refuses the handshake (HTTP 403).
            await self.close()
            return
        self.show_numbers = await database_sync_to_async(masking.can_see_numbers)(user)
        # Join before reading the snapshot, so no event falls in between.
        await self._join(LIVE_CALLS_GROUP)
        await self.accept()
        calls = await database_sync_to_async(selectors.live_call_payloads)()
        await self.send_json(
            {"type": "snapshot", "calls": [self._masked(c) for c in calls]}
        )

    async def disconnect(self, code: int) -> None:
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
        if isinstance(content.get("subscribe"), str):
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
        await self.send_json(
            {
                "type": "transcript",
                "call_sid": event["call_sid"],
                "entry": event.get("entry") or {},
            }
        )

    async def _subscribe(self, call_sid: str) -> None:
        if call_sid in self.subscriptions:
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
        self.subscriptions.add(call_sid)
        await self._join(call_group(call_sid))
        await self.send_json(
            {
                "type": "call_transcript",
                "call": self._masked(found["call"]),
                "entries": found["entries"],
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

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    def _masked(self, call: dict[str, Any]) -> dict[str, Any]:
        shown_from, shown_to = masking.shown_numbers(
            direction=call.get("direction", ""),
            from_number=call.get("from") or "",
            to_number=call.get("to") or "",
            show=self.show_numbers,
        )
        return {**call, "from": shown_from, "to": shown_to}
