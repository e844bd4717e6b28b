"""CallRunner: performs one call's actions. No Channels; the consumer is glue.

The call state (``calls.callstate``) decides; the runner does: it sends frames to
Twilio and the engine, opens, reads and closes the engine leg (when the state asks
with ``OpenEngine``), runs timers, runs tool work as tasks off the audio path and
feeds the results back, answers control commands, and hands every database and
live-view write to one ``CallLogWriter``. Tests drive it with a fake Twilio side
and a fake engine leg and wait on it with ``wait_until`` instead of polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from calls.callstate import CallState
from calls.callstate import actions as a
from calls.callstate.tool_calls import output
from calls.engines.base import Engine, EngineConnection
from calls.engines.failures import connect_failure
from calls.runtime.bus import control
from calls.runtime.bus.listen import Publish, publish_to_group
from calls.runtime.call_audio import CallAudio
from calls.runtime.listen import AudioRelay, Listening
from calls.runtime.log_writer import Write
from calls.runtime.recording import CallRecording
from calls.vocabulary.persona import Persona

logger = logging.getLogger(__name__)

# How often the call row is touched; ``calls.services.lifecycle.calls_close_stale``
# (the sweeper) ends calls a few beats behind.
HEARTBEAT_SECONDS = 10.0
# A tool that takes longer is answered with an error, so the model goes on.
TOOL_TIMEOUT_SECONDS = 30.0


def now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class TwilioSide(Protocol):
    """The Twilio media stream socket, as the runner needs it."""

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int | None) -> None: ...


class LogWriter(Protocol):
    """Where the runner's writes go (``CallLogWriter``; tests use a list)."""

    def start(self) -> None: ...

    def put(self, action: Write) -> None: ...

    async def drain(self) -> None: ...

    async def heartbeat(self) -> None: ...

    async def record_end(self, end: a.EndCall) -> None: ...

    async def finish(self, end: a.EndCall, bad_frames: int) -> None: ...


# Runs a (webhook) tool the model called; a plain string is an ok output.
ToolFn = Callable[[a.RunTool], Awaitable[a.ToolResult | str]]
# Loads another assistant's persona for a handoff (None: not available).
PersonaFn = Callable[[int], Awaitable[Persona | None]]


async def no_tools(call: a.RunTool) -> a.ToolResult:
    """The default tool runner: there are no tools, and the model is told so."""
    logger.info("call tool %r requested, but no tools are configured", call.name[:64])
    error = output(error=f"no tool named {call.name!r} is available")
    return a.ToolResult(error, a.TOOL_ERROR)


async def no_personas(assistant_id: int) -> Persona | None:
    return None


@dataclass(frozen=True, slots=True)
class ToolTiming:
    """One tool run: the model's call -> the tool starting, and its run."""

    name: str
    start_delay_ms: int
    duration_ms: int
    status: str


class CallRunner:
    def __init__(
        self,
        *,
        state: CallState,
        engine: Engine,
        twilio: TwilioSide,
        call_log: LogWriter,
        connect_timeout: float,
        tools: ToolFn = no_tools,
        personas: PersonaFn = no_personas,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        publish_audio: Publish = publish_to_group,
        recording: CallRecording | None = None,
        audio: CallAudio | None = None,
    ) -> None:
        self.state = state
        # The call's audio recording (``calls.runtime.recording``), if kept.
        self.recording = recording
        # The audio observer ``state`` was built with (holding the recording, if
        # any): a listen-in relay attaches to it.
        self.audio = audio if audio is not None else CallAudio()
        if recording is not None and self.audio.recording is not recording:
            raise ValueError("the recording must be in the state's audio observer")
        self.call_sid = state.call_sid
        self.engine = engine
        self.twilio = twilio
        self.call_log = call_log
        self.connect_timeout = connect_timeout
        self.tools = tools
        self.personas = personas
        # Per tool run, for the notes and the benchmark (the log has them too).
        self.tool_timings: list[ToolTiming] = []
        self.heartbeat_seconds = heartbeat_seconds
        self.twilio_open = False
        self.leg: EngineConnection | None = None
        self.leg_task: asyncio.Task[None] | None = None
        self.end_task: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # timers, tools, heartbeat
        self.finished = asyncio.Event()
        self.listening = Listening(self.call_sid, self._set_tap, publish=publish_audio)
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    # -- what the consumer tells the runner -----------------------------------

    async def start(self) -> None:
        """The upgrade was accepted."""
        self.twilio_open = True
        self.call_log.start()
        self._spawn(self._heartbeat())
        if self.recording is not None:
            self._spawn(self.recording.run())
        await self.perform(self.state.on_accepted(now_ms()))

    async def twilio_text(self, text: str) -> None:
        try:
            actions = self.state.on_twilio_text(text, now_ms())
        except Exception as exc:
            actions = self._internal_error("a Twilio frame", exc)
        if actions:
            await self.perform(actions)
        elif self._waiters:  # state may have changed without an action
            self._wake_waiters()

    async def twilio_binary(self, data: bytes) -> None:
        await self.perform(self.state.on_twilio_binary(data))

    async def twilio_closed(self) -> None:
        """Twilio's socket closed (after a ``stop``, or not): end and wait for it."""
        self.twilio_open = False
        await self.perform(self.state.on_twilio_closed(now_ms()))
        if self.end_task is not None:
            await asyncio.shield(self.end_task)

    async def control(self, command: control.ControlCommand) -> control.ControlReply:
        """A hang-up or transfer from staff, from any process."""
        if self.state.ended:
            return control.ControlReply(False, "the call is already ending")
        who = command.requested_by or "unknown"
        if command.command == control.TRANSFER:
            refusal = self.state.transfer_refusal
            if refusal:  # never swapped for the one under way
                return control.ControlReply(False, refusal)
            actions = self.state.transfer(command.to, command.message, who, now_ms())
            answer = f"transferring {self.call_sid} to {command.to}"
        else:
            actions = self.state.hang_up(who, now_ms())
            answer = f"hanging up {self.call_sid}"
        logger.info("call %s: %s asked by %s", self.call_sid, command.command, who)
        await self.perform(actions)
        return control.ControlReply(True, answer)

    def listen(self, listener: str, on: bool) -> None:
        """A viewer started (or renewed) or stopped listening in, from any process."""
        if on and self.state.ended:
            return
        self.listening.update(listener, on)

    def _set_tap(self, tap: AudioRelay | None) -> None:
        self.audio.listen(tap)

    async def shut_down(self) -> None:
        """The process is stopping: end the call and wait until it is recorded."""
        await self.perform(self.state.shut_down())
        if self.end_task is not None:
            await asyncio.shield(self.end_task)

    # -- performing actions ---------------------------------------------------

    async def perform(self, actions: list[a.Action]) -> None:
        for action in actions:
            # The two sends are 50 a second each way: test them first.
            if type(action) is a.SendEngine:
                await self._send_engine(action.text)
            elif type(action) is a.SendTwilio:
                if self.twilio_open:
                    await self.twilio.send_text(action.text)
            elif isinstance(action, a.StartTimer):
                self._spawn(self._fire(action.name, action.delay_ms / 1000))
            elif isinstance(action, a.EndCall):
                if self.end_task is None:
                    self.end_task = asyncio.create_task(self._end(action))
            elif isinstance(action, a.OpenEngine):
                if self.leg_task is None:
                    self.leg_task = asyncio.create_task(self._run_leg())
            elif isinstance(action, a.RunTool):
                self._spawn(self._run_tool(action))
            elif isinstance(action, a.LoadPersona):
                self._spawn(self._load_persona(action))
            elif isinstance(action, Write):
                self.call_log.put(action)
        if self._waiters:
            self._wake_waiters()

    async def _send_engine(self, text: str) -> None:
        leg = self.leg
        if leg is None:
            return
        try:
            await leg.send(text)
        except Exception as exc:  # the reader reports the close
            logger.debug("call %s: engine send failed: %r", self.call_sid, exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _internal_error(self, where: str, exc: Exception) -> list[a.Action]:
        # A bug of ours: end the call cleanly (recorded, the caller hears the
        # TwiML apology) instead of dropping the socket unrecorded.
        logger.error("call %s: failed on %s", self.call_sid, where, exc_info=exc)
        return self.state.end(a.STREAM_CLOSED, f"internal error: {exc!r}")

    # -- the engine leg -------------------------------------------------------

    async def _run_leg(self) -> None:
        leg = await self._open_leg()
        if leg is None:
            return
        self.leg = leg
        state = self.state
        try:
            await self.perform(state.on_engine_open(now_ms()))
            async for message in leg:
                actions = state.on_engine_text(message, now_ms())
                if actions:
                    await self.perform(actions)
                elif self._waiters:
                    self._wake_waiters()
        except Exception as exc:
            # Our bug, not the peer's garbage (the state absorbs that).
            await self.perform(self._internal_error("an engine message", exc))
        finally:
            if state.ended:  # cancelled by the end: never leave the socket open
                await self._close_leg_socket()
        await self.perform(
            state.on_engine_closed(leg.close_code, leg.close_reason, now_ms())
        )

    async def _open_leg(self) -> EngineConnection | None:
        try:
            target = self.engine.target(self.state.persona)
        except ValueError as exc:
            logger.error("call %s: cannot open the engine leg: %s", self.call_sid, exc)
            await self.perform(self.state.on_engine_failed(str(exc)))
            return None
        timeout = self.connect_timeout
        started = now_ms()
        try:
            async with asyncio.timeout(timeout):
                leg = await self.engine.connect(
                    target.url, headers=target.headers, open_timeout=timeout
                )
        except Exception as exc:  # any failure to open ends the call
            detail = _connect_detail(exc, label=self.engine.label, within=timeout)
            logger.warning(
                "call %s: %s connect to %s failed: %s",
                self.call_sid,
                self.engine.label,
                target.url.split("?")[0],
                detail,
            )
            await self.perform(self.state.on_engine_failed(detail))
            return None
        logger.info(
            "call %s: %s leg open in %d ms",
            self.call_sid,
            self.engine.label,
            now_ms() - started,
        )
        return leg

    async def _close_leg_socket(self) -> None:
        if self.leg is not None:
            try:
                await self.leg.close()
            except Exception as exc:  # closing is best effort
                logger.debug("call %s: engine close: %r", self.call_sid, exc)

    # -- timers, tools, heartbeat ---------------------------------------------

    async def _fire(self, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.perform(self.state.on_timer(name, now_ms()))

    async def _run_tool(self, call: a.RunTool) -> None:
        started = now_ms()
        result: a.ToolResult | str
        try:
            async with asyncio.timeout(TOOL_TIMEOUT_SECONDS):
                result = await self.tools(call)
        except TimeoutError:
            result = a.ToolResult(output(error="the tool timed out"), a.TOOL_TIMEOUT)
        except Exception:
            logger.exception("call %s: tool %r failed", self.call_sid, call.name[:64])
            result = a.ToolResult(output(error="the tool failed"), a.TOOL_ERROR)
        if isinstance(result, str):
            result = a.ToolResult(result)
        done = now_ms()
        timing = ToolTiming(
            call.name[:64],
            max(0, started - call.requested_ms) if call.requested_ms else 0,
            done - started,
            result.status,
        )
        self.tool_timings.append(timing)
        logger.info(
            "call %s: tool %r %s: started %d ms after the call, ran %d ms",
            self.call_sid,
            timing.name,
            timing.status,
            timing.start_delay_ms,
            timing.duration_ms,
        )
        await self.perform(
            self.state.on_tool_result(call.call_id, result, done, timing.duration_ms)
        )

    async def _load_persona(self, load: a.LoadPersona) -> None:
        try:
            persona = await self.personas(load.assistant_id)
        except Exception:
            logger.exception(
                "call %s: could not load assistant %s for a handoff",
                self.call_sid,
                load.assistant_id,
            )
            persona = None
        await self.perform(self.state.on_handoff(load.call_id, persona, now_ms()))

    async def _heartbeat(self) -> None:
        while True:
            await self.call_log.heartbeat()
            await asyncio.sleep(self.heartbeat_seconds)

    # -- the end ----------------------------------------------------------------

    async def _end(self, end: a.EndCall) -> None:
        """Close both legs at once, then record how the call ended."""
        logger.info("call %s: ending (%s) %s", self.call_sid, end.reason, end.error)
        self.listening.stop()
        for task in list(self.tasks):
            task.cancel()
        if self.twilio_open:  # first: the caller should not wait on the engine
            self.twilio_open = False
            await self.call_log.record_end(end)
            try:
                await self.twilio.close(end.close_code)
            except Exception as exc:
                # The caller's side may be gone already (servers differ in what a
                # send after the peer's close does); the rest of the end must run.
                logger.info("call %s: closing Twilio's socket: %r", self.call_sid, exc)
        await self._close_leg_socket()
        if self.leg_task is not None and not self.leg_task.done():
            self.leg_task.cancel()
            await asyncio.gather(self.leg_task, return_exceptions=True)
        await self.call_log.drain()
        await self.call_log.finish(end, self.state.bad_frames)
        if self.recording is not None:
            await self.recording.finish(now_ms())
        self.finished.set()
        self._wake_waiters()

    # -- for tests and tools: wait on the runner, not on private fields -----

    async def wait_until(self, check: Callable[[], bool], within: float = 3) -> None:
        """Return once ``check()`` holds; it is re-checked after every batch of
        actions the runner performs."""
        if check():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((check, future))
        try:
            async with asyncio.timeout(within):
                await future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove((check, future))

    def _wake_waiters(self) -> None:
        for check, future in list(self._waiters):
            if not future.done() and check():
                future.set_result(None)


def _connect_detail(exc: BaseException, *, label: str, within: float) -> str:
    """Why the engine could not be reached, for the call's error: the named cause
    (DNS, TLS, a refused key, nothing listening, no answer) when there is one."""
    named = connect_failure(exc, label=label, within=within)
    if named.startswith(f"{label} could not be reached ("):
        return str(exc) or f"{type(exc).__name__} after {within:g} s"
    return named
