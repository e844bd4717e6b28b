"""Runs a caller's script against an open media stream, step by step.

Each step type (see ``script``) has a handler; timing steps wait on the stream's
20 ms clock (``MediaStream.wait_until``). Turns are recorded in the report with
their reply latency; a step that cannot complete (no reply, nobody spoke) records
an error and the script goes on, as a patient caller would.
"""

from __future__ import annotations

import asyncio
import inspect

from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller.report import CallReport, TurnStats
from calls.tooling.simulators.twilio_caller.script import (
    BargeIn,
    Dtmf,
    HangUp,
    Hook,
    Pause,
    SendRaw,
    Speak,
    Step,
    WaitForAudio,
    WaitForReply,
)
from calls.tooling.simulators.twilio_caller.stream import MediaStream


def speech_frames(ms: int, audio_data: bytes | None) -> list[bytes]:
    if audio_data is not None:
        return audio.frames(audio_data)
    return [audio.speech_frame(i) for i in range(max(ms, 0) // audio.FRAME_MS)]


class ScriptRunner:
    def __init__(self, steps: list[Step], report: CallReport) -> None:
        self.steps = steps
        self.report = report

    async def run(self, stream: MediaStream) -> None:
        for step in self.steps:
            if isinstance(step, HangUp):
                self.report.hung_up_by = "caller"
                return
            await self._run_step(stream, step)
        self.report.hung_up_by = "caller"

    async def _run_step(self, stream: MediaStream, step: Step) -> None:
        if isinstance(step, Speak):
            await self._speak(stream, step.ms, step.audio, barge_in=False)
        elif isinstance(step, WaitForReply):
            await self._wait_for_reply(stream, step)
        elif isinstance(step, Pause):
            await asyncio.sleep(step.ms / 1000)
        elif isinstance(step, BargeIn):
            await self._barge_in(stream, step)
        elif isinstance(step, Dtmf):
            await stream.send_dtmf(step.digit)
        elif isinstance(step, SendRaw):
            await stream.send_raw(step.text)
        elif isinstance(step, WaitForAudio):
            if not await self._assistant_playing(stream, step.timeout_s):
                self.report.errors.append("the assistant never spoke")
        elif isinstance(step, Hook):
            result = step.function()
            if inspect.isawaitable(result):
                await result

    async def _speak(
        self, stream: MediaStream, ms: int, data: bytes | None, *, barge_in: bool
    ) -> None:
        turn = TurnStats(len(self.report.turns) + 1, stream.now_ms(), barge_in=barge_in)
        self.report.turns.append(turn)
        done = stream.speak(iter(speech_frames(ms, data)), turn)
        turn.speech_end_ms = await done

    async def _wait_for_reply(self, stream: MediaStream, step: WaitForReply) -> None:
        heard_before = stream.playback.bursts
        playing = stream.playback.queued > 0

        def finished() -> bool:
            if (
                not (playing or stream.playback.bursts > heard_before)
                or stream.playback.queued
            ):
                return False
            quiet = stream.playback.quiet_since
            return (
                quiet is not None
                and (stream.loop.time() - quiet) * 1000 >= step.quiet_ms
            )

        if not await stream.wait_until(finished, step.timeout_s) and not step.optional:
            self.report.errors.append(f"no reply within {step.timeout_s}s")

    @staticmethod
    async def _assistant_playing(stream: MediaStream, timeout_s: float) -> bool:
        heard_before = stream.playback.bursts
        playing = stream.playback.queued > 0
        return await stream.wait_until(
            lambda: (
                stream.playback.queued > 0
                and (playing or stream.playback.bursts > heard_before)
            ),
            timeout_s,
        )

    async def _barge_in(self, stream: MediaStream, step: BargeIn) -> None:
        if not await self._assistant_playing(stream, step.timeout_s):
            self.report.errors.append("barge-in: the assistant never spoke")
            return
        start = stream.playback.played_total
        goal = step.after_ms * audio.BYTES_PER_MS
        await stream.wait_until(
            lambda: (
                stream.playback.played_total - start >= goal
                or not stream.playback.queued
            ),
            step.timeout_s,
        )
        await self._speak(stream, step.speak_ms, None, barge_in=True)
