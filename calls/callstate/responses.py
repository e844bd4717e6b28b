"""Responses, the goodbye at max duration, session checks and errors for CallBridge.

The last mixin in CallBridge's chain (``core.CallBridge`` -> ``realtime_side`` ->
here); it shares the bridge's state. Responses we request (greeting, goodbye) are
told apart from the model's own answers by order: ``response.created`` comes back
in the order we sent ``response.create``. No Django.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from calls.callstate import actions as a
from calls.callstate.actions import Action, SendRealtime
from calls.callstate.turns import AssistantTurn
from calls.engines import openai_realtime as realtime
from calls.engines.openai_realtime import (
    Error,
    FunctionCallArgumentsDone,
    ResponseCreated,
    ResponseDone,
    SessionUpdated,
)

logger = logging.getLogger(__name__)

# Errors that only mean a race between us and the server; the call goes on.
BENIGN_ERROR_CODES = frozenset(
    {"response_cancel_not_active", "conversation_already_has_active_response"}
)
GREETING, GOODBYE = "greeting", "goodbye"


class ResponseHandling:
    # State owned by CallBridge and RealtimeSide, declared for type checkers.
    call_sid: str
    snapshot: dict[str, Any]
    configured: bool
    input_stopped: bool
    goodbye_timeout_ms: int
    errors: list[str]
    turns: dict[str, AssistantTurn]
    live: list[AssistantTurn]
    end: Callable[..., list[Action]]
    settle: Callable[[AssistantTurn], list[Action]]
    _final_mark: Callable[[AssistantTurn], list[Action]]
    _write_assistant: Callable[[AssistantTurn], list[Action]]

    def _init_responses(self) -> None:
        self.active_response_id: str | None = None
        # Purposes of the response.create we sent, oldest first.
        self.own_requests: deque[str] = deque()
        self.response_purpose: dict[str, str] = {}
        self.labeled: dict[str, str] = {}  # purpose -> response it was matched to
        self.goodbye = ""  # "" | "pending" | "requested" | "generated"

    # -- responses ------------------------------------------------------------

    def request_response(self, purpose: str, instructions: str) -> SendRealtime:
        self.own_requests.append(purpose)
        return SendRealtime(
            realtime.response_create(instructions, event_id=f"evt_{purpose}")
        )

    def _response_created(self, ev: ResponseCreated, now_ms: int) -> list[Action]:
        self.active_response_id = ev.response_id
        if self.own_requests:
            purpose = self.own_requests.popleft()
            self.response_purpose[ev.response_id] = purpose
            self.labeled[purpose] = ev.response_id
        return []

    def _response_done(self, ev: ResponseDone, now_ms: int) -> list[Action]:
        out: list[Action] = []
        usage = realtime.usage_fields(ev.usage)
        if usage:
            out.append(a.AddUsage(usage))
        if self.active_response_id in (ev.response_id, ""):
            self.active_response_id = None
        if ev.status == "failed":
            if ev.error_code in realtime.FATAL_ERROR_CODES:
                return out + self.end(
                    a.REALTIME_ERROR, f"{ev.error_code}: {ev.error_message}"
                )
            logger.warning(
                "call %s: response %s failed: %s %s",
                self.call_sid,
                ev.response_id,
                ev.error_code,
                ev.error_message,
            )
        for item_id, text in ev.transcripts:
            turn = self.turns.get(item_id)
            if turn is not None and turn.transcript is None:
                turn.transcript = text  # no output_audio_transcript.done came
                out += self._write_assistant(turn)
        for turn in [t for t in self.live if t.response_id == ev.response_id]:
            turn.audio_done = True
            out += self._final_mark(turn) + self.settle(turn)
        if self.response_purpose.get(ev.response_id) == GOODBYE:
            self.goodbye = "generated"
            out += self.settle_goodbye()
        elif self.goodbye == "pending":
            out += self._send_goodbye()
        return out

    # -- max call duration ----------------------------------------------------

    def start_goodbye(self) -> list[Action]:
        """Max duration reached: say goodbye, then hang up once it has played."""
        self.input_stopped = True
        if not self.configured:
            return self.end(a.MAX_DURATION)
        out: list[Action] = [a.StartTimer(a.TIMER_GOODBYE, self.goodbye_timeout_ms)]
        if self.active_response_id is not None:
            self.goodbye = "pending"  # after the current answer
            return out
        return out + self._send_goodbye()

    def _send_goodbye(self) -> list[Action]:
        self.goodbye = "requested"
        return [self.request_response(GOODBYE, realtime.GOODBYE_INSTRUCTIONS)]

    def settle_goodbye(self) -> list[Action]:
        if self.goodbye == "generated" and not any(t.queued for t in self.live):
            return self.end(a.MAX_DURATION)
        return []

    # -- session and errors -----------------------------------------------------

    def _session_updated(self, ev: SessionUpdated, now_ms: int) -> list[Action]:
        voice = self.snapshot.get("voice") or ev.voice
        expected = (realtime.AUDIO_FORMAT, realtime.AUDIO_FORMAT, voice)
        if (ev.input_format, ev.output_format, ev.voice) != expected:
            logger.warning(
                "call %s: session.updated differs from what we asked: input %r, "
                "output %r, voice %r (wanted %r)",
                self.call_sid,
                ev.input_format,
                ev.output_format,
                ev.voice,
                expected,
            )
        return []

    def _error(self, ev: Error, now_ms: int) -> list[Action]:
        text = f"{ev.code or ev.type}: {ev.message}"
        if ev.fatal:
            logger.error("call %s: fatal Realtime error %s", self.call_sid, text)
            reason = (
                a.SESSION_EXPIRED if ev.code == "session_expired" else a.REALTIME_ERROR
            )
            return self.end(reason, text)
        if ev.event_id == realtime.SESSION_UPDATE_EVENT_ID or ev.param.startswith(
            "session."
        ):
            logger.warning(
                "call %s: session.update rejected: %s (param %s)",
                self.call_sid,
                text,
                ev.param,
            )
            self.errors.append(f"session.update rejected: {text}")
            return []
        self._forget_request(ev.event_id)
        level = logging.INFO if ev.code in BENIGN_ERROR_CODES else logging.WARNING
        logger.log(
            level,
            "call %s: Realtime error %s (event %s, param %s)",
            self.call_sid,
            text,
            ev.event_id,
            ev.param,
        )
        return []

    def _forget_request(self, event_id: str) -> None:
        """Our response.create was refused: no response of ours will come.

        If a response.created was already matched to it, that response was the
        model's own one, created while our request was in flight: unlabel it.
        """
        if not event_id.startswith("evt_"):
            return
        purpose = event_id.removeprefix("evt_")
        if purpose in self.own_requests:
            self.own_requests.remove(purpose)
        elif purpose in self.labeled:
            self.response_purpose.pop(self.labeled.pop(purpose), None)
        if purpose == GOODBYE and self.goodbye == "requested":
            self.goodbye = "pending"  # retried after the active response

    def _tool_call(self, ev: FunctionCallArgumentsDone, now_ms: int) -> list[Action]:
        return [
            a.ToolCall(ev.call_id, ev.name, ev.arguments, ev.item_id, ev.response_id)
        ]
