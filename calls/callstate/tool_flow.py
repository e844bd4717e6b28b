"""The model's function calls: built-ins done here, the rest run by the runner.

A call's row takes its place in the conversation when the model makes it. The
built-ins act at once: ``end_call`` says the configured goodbye (or lets the
model's last words play out), ``transfer_call`` hands the caller to a named
destination, ``handoff`` loads another assistant (the runner does, and answers in
``CallState.on_handoff``). Any other tool becomes a ``RunTool`` for the runner,
off the audio path. Each output goes back to the model, which is then asked to
answer, once per batch and only when the engine takes a request. No Django.
"""

from __future__ import annotations

import logging

from calls.callstate import actions as a
from calls.callstate.actions import Action, EndCall, SendEngine, ToolResult
from calls.callstate.goodbye import EndRequest, SayGoodbye, TransferTo, goodbye_words
from calls.callstate.responses import TOOL
from calls.callstate.tool_calls import PendingCall, ToolCalls, output
from calls.callstate.transcript import Transcript
from calls.callstate.view import CallView, Request
from calls.engines import base as ev
from calls.vocabulary import tools as builtin
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

# Who ended or transferred a call the assistant ended (Call.ended_by).
BY_ASSISTANT = "assistant"


class ToolFlow:
    def __init__(
        self, view: CallView, transcript: Transcript, request: Request
    ) -> None:
        self.view = view
        self.transcript = transcript
        self.request = request
        self.calls = ToolCalls()

    @property
    def pending(self) -> bool:
        """A call has no output yet."""
        return bool(self.calls.pending)

    @property
    def answer_latencies(self) -> list[int]:
        """Result -> first audio of the answer, per answer (ms)."""
        return self.calls.answer_latencies

    def known(self, call_id: str) -> bool:
        return call_id in self.calls.pending

    def requested(
        self, event: ev.ToolCallRequested, now_ms: int
    ) -> tuple[list[Action], EndRequest | None]:
        """The model called a function: its actions, and how the call ends
        because of it (``end_call``, ``transfer_call``; None: it goes on)."""
        refusal = self.view.transfer_refusal
        if refusal and event.name == builtin.TRANSFER_CALL:
            return self._refuse(event, refusal, now_ms), None
        if self.view.ending:
            logger.info(
                "call %s: tool %r ignored: the call is ending",
                self.view.call_sid,
                event.name[:64],
            )
            return [], None
        # The row's place is where the call happened, whenever the result comes.
        call = self._pending(event, now_ms)
        tools = self.view.persona.tools
        if call.name == builtin.END_CALL and tools.end_call.enabled:
            out = self.done(call, ToolResult(output(ok=True)), now_ms, answer=False)
            # No goodbye configured: the model's own last words play out first.
            words = goodbye_words(self.view.persona)
            return out, SayGoodbye(words, EndCall(a.ASSISTANT_ENDED))
        if call.name == builtin.TRANSFER_CALL and tools.transfer:
            return self._transfer(call, now_ms)
        if call.name == builtin.HANDOFF and tools.handoff:
            return self._handoff(call, now_ms), None
        run = a.RunTool(
            event.call_id,
            event.name,
            event.arguments,
            event.item_id,
            event.response_id,
            requested_ms=now_ms,
        )
        return [run], None

    def _refuse(
        self, event: ev.ToolCallRequested, refusal: str, now_ms: int
    ) -> list[Action]:
        """A second transfer while one is under way: its row and the model's
        error output say so; the first goes on."""
        logger.info("call %s: transfer_call refused: %s", self.view.call_sid, refusal)
        call = self._pending(event, now_ms)
        error = ToolResult(output(error=refusal), a.TOOL_ERROR)
        return self.done(call, error, now_ms, answer=False)

    def _pending(self, event: ev.ToolCallRequested, now_ms: int) -> PendingCall:
        return self.calls.add(
            PendingCall(
                event.call_id,
                event.name,
                event.arguments,
                event.response_id,
                self.transcript.reserve_seq(),
                self.transcript.offset(now_ms),
                now_ms,
            )
        )

    def _transfer(
        self, call: PendingCall, now_ms: int
    ) -> tuple[list[Action], EndRequest | None]:
        name = call.argument("destination")
        target = self.view.persona.tools.transfer_target(name)
        if target is None:
            error = output(error=f"no transfer destination named {name[:64]!r}")
            return self.done(call, ToolResult(error, a.TOOL_ERROR), now_ms), None
        result = ToolResult(output(ok=True, destination=target.name))
        out = self.done(call, result, now_ms, answer=False)
        ending = TransferTo(target.number, target.message, BY_ASSISTANT, False)
        return out, ending

    def _handoff(self, call: PendingCall, now_ms: int) -> list[Action]:
        name = call.argument("assistant")
        target = self.view.persona.tools.handoff_target(name)
        if target is None or target.assistant_id is None:
            error = output(error=f"no assistant named {name[:64]!r} to hand off to")
            return self.done(call, ToolResult(error, a.TOOL_ERROR), now_ms)
        return [a.LoadPersona(target.assistant_id, call.call_id)]

    def result(
        self,
        call_id: str,
        result: ToolResult,
        now_ms: int,
        duration_ms: int | None = None,
    ) -> list[Action]:
        """A tool finished: its row and output, then (maybe) the answer."""
        call = self.calls.pending.get(call_id)
        if call is None:  # not a call we saw: still give the model its output
            return self._give_output(call_id, result.output, now_ms, answer=True)
        return self.done(call, result, now_ms, duration_ms)

    def handed_off(
        self, call_id: str, persona: Persona | None, now_ms: int
    ) -> list[Action]:
        """The handoff's outcome, as the model's tool output."""
        call = self.calls.pending[call_id]
        if persona is None:
            error = output(error="that assistant is not available")
            return self.done(call, ToolResult(error, a.TOOL_ERROR), now_ms)
        result = ToolResult(output(ok=True, assistant=persona.name))
        return self.done(call, result, now_ms)

    def done(
        self,
        call: PendingCall,
        result: ToolResult,
        now_ms: int,
        duration_ms: int | None = None,
        *,
        answer: bool = True,
    ) -> list[Action]:
        """Write the call's row and send its output; ``answer``: the model is
        then asked to speak (when it may; see ``answer``)."""
        self.calls.take(call.call_id)
        if duration_ms is None:
            duration_ms = max(0, now_ms - call.requested_ms)
        out: list[Action] = [
            a.SaveTranscript(
                call.seq,
                a.TOOL,
                result.output,
                offset_ms=call.offset_ms,
                tool_name=call.name,
                tool_arguments=call.arguments,
                tool_status=result.status,
                duration_ms=duration_ms,
            )
        ]
        return out + self._give_output(call.call_id, result.output, now_ms, answer)

    def _give_output(
        self, call_id: str, tool_output: str, now_ms: int, answer: bool
    ) -> list[Action]:
        if not self.view.configured:
            return []
        protocol = self.view.protocol
        out: list[Action] = [
            SendEngine(text) for text in protocol.tool_result(call_id, tool_output)
        ]
        if answer:
            self.calls.want_response = True
            self.calls.result_ms = now_ms
            out += self.answer()
        return out

    def answer(self) -> list[Action]:
        """Ask the model to answer the tool outputs, once that is allowed: every
        call of the batch answered, no response active or requested, no goodbye."""
        calls = self.calls
        view = self.view
        if (
            not calls.want_response
            or calls.pending
            or view.ended
            or view.ending
            or view.responding
        ):
            return []
        calls.want_response = False
        return [self.request(TOOL, None)]

    def refused(self, tag: str) -> None:
        """The engine refused a request of ours: if it was to answer the tool
        outputs, that is asked again when the engine is free."""
        if tag == TOOL:
            self.calls.want_response = True

    @property
    def awaiting_answer(self) -> bool:
        return self.calls.result_ms is not None

    def answer_audio(self, response_id: str, now_ms: int) -> None:
        """First audio of the answer to a tool result: how long it took."""
        calls = self.calls
        if calls.result_ms is None or self.view.purpose(response_id) != TOOL:
            return
        latency = max(0, now_ms - calls.result_ms)
        calls.result_ms = None
        calls.answer_latencies.append(latency)
        logger.info(
            "call %s: tool result -> first answer audio in %d ms",
            self.view.call_sid,
            latency,
        )
