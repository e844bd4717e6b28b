"""How the call ends: at once, or after a last thing the assistant says.

The call ends once (its reason, error, close code, who ended it and where it was
transferred are the first end's). A goodbye (``goodbye.Goodbyes``) waits for the
answer being spoken unless it interrupts it like a barge-in, stops caller audio
at once, and ends the call once its audio has played or its timer fires. A
transfer, a staff hang-up, a key, a tool or the silence all end the call through
here. No Django.
"""

from __future__ import annotations

from collections.abc import Callable

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine
from calls.callstate.goodbye import (
    GOODBYE_TIMEOUT_MS,
    SAY_EXACTLY,
    EndRequest,
    Goodbyes,
    TransferTo,
)
from calls.callstate.responses import GOODBYE
from calls.callstate.transcript import Transcript
from calls.callstate.view import CallView, Request

MAX_DURATION_GOODBYE = (
    "Tell the caller the maximum call time is reached and say goodbye."
)


class CallEnd:
    def __init__(
        self,
        view: CallView,
        transcript: Transcript,
        request: Request,
        barge_in: Callable[[], list[Action]],
        stop_input: Callable[[], None],
        goodbye_timeout_ms: int = GOODBYE_TIMEOUT_MS,
    ) -> None:
        self.view = view
        self.transcript = transcript
        self.request = request
        self.barge_in = barge_in  # cut off what is being said
        self.stop_input = stop_input  # caller audio no longer goes on
        self.goodbye = Goodbyes(goodbye_timeout_ms)
        self.ended = False
        self.reason = ""
        self.errors: list[str] = []
        # Who asked for the transfer whose message is being said ("": none): a
        # second transfer is refused until the call ends, never swapped in.
        self.transfer_by = ""

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    @property
    def goodbye_asked(self) -> bool:
        """A goodbye was asked for: the call ends after it."""
        return self.goodbye.asked

    @property
    def saying_goodbye(self) -> bool:
        """The goodbye is on its way: the caller cannot barge in on it."""
        return self.goodbye.saying

    @property
    def transfer_refusal(self) -> str:
        """Why a transfer cannot be asked now ("": it can)."""
        if not self.transfer_by or self.ended:
            return ""
        return (
            f"a transfer asked by {self.transfer_by} is already under way; "
            "it cannot be replaced"
        )

    def refused(self, tag: str) -> None:
        """The engine refused a request of ours (a goodbye's is retried)."""
        self.goodbye.refused(tag)

    def end(
        self,
        reason: str,
        error: str = "",
        close_code: int | None = None,
        *,
        ended_by: str = "",
        transfer_to: str = "",
    ) -> list[Action]:
        """End the call now (the first end counts; later ones do nothing)."""
        if self.ended:
            return []
        self.ended = True
        self.reason = reason
        if error:
            self.errors.insert(0, error)
        return [EndCall(reason, self.error, close_code, ended_by, transfer_to)]

    def end_with(self, end: EndCall) -> list[Action]:
        return self.end(
            end.reason,
            end.error,
            end.close_code,
            ended_by=end.ended_by,
            transfer_to=end.transfer_to,
        )

    def asked(self, request: EndRequest, now_ms: int) -> list[Action]:
        """End the call the way a part asked (a key, a tool, the silence)."""
        if isinstance(request, TransferTo):
            return self.transfer(
                request.to,
                request.message,
                request.requested_by,
                now_ms,
                interrupt=request.interrupt,
            )
        return self.say_goodbye(
            request.instructions, request.end, interrupt=request.interrupt
        )

    def hang_up(self, requested_by: str, now_ms: int) -> list[Action]:
        """Somebody outside the call ends it now (Twilio then hangs up)."""
        if self.ended:
            return []
        row = self.transcript.system(f"Hung up by {requested_by}", now_ms)
        return [row, *self.end(a.HUNG_UP_BY_STAFF, ended_by=requested_by)]

    def transfer(
        self,
        to: str,
        message: str,
        requested_by: str,
        now_ms: int,
        *,
        interrupt: bool = True,
    ) -> list[Action]:
        """Hand the caller to ``to``: say ``message`` first (if any), then end the
        stream so that Twilio dials ``to`` (the ``<Connect action>`` answer).

        Without ``interrupt`` (the assistant asked for it) what it is saying
        plays out first, message or not. A transfer already under way is never
        replaced (``transfer_refusal`` says why; this returns nothing).
        """
        if self.ended or self.transfer_refusal:
            return []
        text = f"Transferred to {to} by {requested_by}"
        row = self.transcript.system(f"{text}: {message}" if message else text, now_ms)
        end = EndCall(a.TRANSFERRED, ended_by=requested_by, transfer_to=to)
        if not message and interrupt:
            return [row, *self.end_with(end)]
        instructions = SAY_EXACTLY.format(message=message) if message else ""
        self.transfer_by = requested_by
        return [row, *self.say_goodbye(instructions, end, interrupt=interrupt)]

    def say_goodbye(
        self, instructions: str, end: EndCall, *, interrupt: bool = False
    ) -> list[Action]:
        """Have the assistant say a last thing, then end the call with ``end``.

        Without ``interrupt`` the goodbye waits for the answer being spoken; with
        it, that answer is cut off like a barge-in. Caller audio stops at once.
        Empty ``instructions``: no words of its own, the call ends once what is
        being said has played.
        """
        if self.goodbye.asked:
            return self.end_with(end)  # a second goodbye: no time for words
        self.stop_input()
        if not self.view.configured:
            return self.end_with(end)
        out: list[Action] = [self.goodbye.begin(instructions, end)]
        if interrupt:
            out += self.barge_in()
            if self.view.answering:
                out += [SendEngine(text) for text in self.view.protocol.cancel()]
        if self.view.answering:
            return out  # pending: sent once the current answer is done
        return out + self._send_goodbye()

    def _send_goodbye(self) -> list[Action]:
        instructions = self.goodbye.send()
        if not instructions:
            return self.settle()
        return [self.request(GOODBYE, instructions)]

    def settle(self) -> list[Action]:
        """End the call once the goodbye was said and has played."""
        if self.goodbye.said and not self.view.playing:
            return self.end_with(self.goodbye.end())
        return []

    def response_done(self, purpose: str) -> list[Action]:
        """A response ended: the goodbye's (it was said), or the one it waited for."""
        if not self.goodbye.asked:
            return []
        if purpose == GOODBYE:
            self.goodbye.generated()
            return self.settle()
        if self.goodbye.waiting:
            return self._send_goodbye()
        return []

    def timer(self, name: str) -> list[Action]:
        """The goodbye's timer (the call ends as the goodbye said), or the
        call's maximum duration (a goodbye saying so)."""
        if name == a.TIMER_GOODBYE:
            return self.end_with(self.goodbye.end())
        return self.say_goodbye(MAX_DURATION_GOODBYE, EndCall(a.MAX_DURATION))
