"""A webhook tool's filler: what the assistant says while a slow tool runs.

A tool call that has lasted ``after_ms`` without its result has its tool's
filler said ("One moment while I check."): asked of the engine as a response of
its own, so it is an assistant turn like any other, with its row. It is never
said over anybody: while the caller speaks (and until the model has answered
them) or assistant audio is generated or playing it waits, and it is said once
that is over, if the tool is still running. Once per tool call, and once for
parallel calls (the first due). The tool's answer waits for the filler's
response to end, so it is read out after it. No engine types, no Django.
"""

from __future__ import annotations

import logging

from calls.callstate.actions import TIMER_FILLER, Action, StartTimer
from calls.callstate.goodbye import SAY_EXACTLY
from calls.callstate.responses import FILLER
from calls.callstate.view import CallView, Request

logger = logging.getLogger(__name__)

# How long a tool call runs before its filler is said, unless the deployment says.
FILLER_AFTER_MS = 1500


class ToolFiller:
    def __init__(
        self, view: CallView, request: Request, after_ms: int = FILLER_AFTER_MS
    ) -> None:
        self.view = view
        self.request = request
        self.after_ms = max(0, after_ms)
        # Calls still running whose filler has not been said: call id -> filler.
        self.waiting: dict[str, str] = {}
        self.due = ""  # a filler whose moment came, said once nobody speaks
        # The caller spoke while it was due: the model answers them first (the
        # engine starts that response itself), and the filler waits for it.
        self.caller_turn = False

    def started(self, call_id: str, tool_name: str) -> list[Action]:
        """A webhook tool call went to the runner: its filler's timer, if it
        has one."""
        tool = self.view.persona.tools.webhook(tool_name)
        if tool is None or not tool.filler.strip():
            return []
        self.waiting[call_id] = tool.filler.strip()
        return [StartTimer(f"{TIMER_FILLER}:{call_id}", self.after_ms)]

    def answered(self, call_id: str) -> None:
        """The call's result came: its filler is no longer needed."""
        self.waiting.pop(call_id, None)
        if not self.waiting:
            self.due = ""

    def response_done(self) -> None:
        """A response ended: one the caller was owed is over."""
        self.caller_turn = False

    def fired(self, name: str) -> list[Action]:
        """The filler's moment came: said now, or once nobody speaks."""
        call_id = name.partition(":")[2]
        filler = self.waiting.get(call_id)
        if filler is None:  # answered meanwhile, or covered by another's filler
            return []
        self.due = self.due or filler
        return self.check()

    def check(self) -> list[Action]:
        """Say the due filler if nobody speaks now."""
        view = self.view
        if not self.due:
            return []
        if view.ended or view.ending:
            self.due = ""
            self.waiting.clear()
            return []
        if view.caller_speaking:
            self.caller_turn = True
        if self.caller_turn or not view.configured or view.responding or view.playing:
            return []  # not over anybody: once they are done
        text, self.due = self.due, ""
        self.waiting.clear()  # one filler for the calls running now
        logger.info("call %s: a tool is slow; saying its filler", view.call_sid)
        return [self.request(FILLER, SAY_EXACTLY.format(message=text))]
