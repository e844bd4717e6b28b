"""The media-stream half of a simulated call: Twilio's side of the WebSocket.

Sends ``connected`` and ``start``, then one 160-byte mu-law ``media`` frame every
20 ms on a drift-free schedule (silence unless the script is speaking), ``dtmf`` on
request and ``stop`` at hang-up. Plays the server's audio back in real time: a
playback queue drains 20 ms per tick, a ``mark`` is echoed once the audio queued
before it has played (at once if nothing is queued), and ``clear`` drops the queue
and echoes every pending mark. Echo-mode round trips are measured with frame tags.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller.playback import Playback
from calls.tooling.simulators.twilio_caller.report import CallReport, TurnStats

logger = logging.getLogger(__name__)

FRAME_S = audio.FRAME_MS / 1000


class MediaStream:
    def __init__(
        self,
        ws: ClientConnection,
        report: CallReport,
        *,
        custom_parameters: dict[str, str],
        stream_tag: int | None = None,
        start_delay_ms: int = 0,
    ) -> None:
        self.ws = ws
        self.start_delay_ms = start_delay_ms
        self.report = report
        self.custom_parameters = custom_parameters
        self.stream_tag = stream_tag
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.seq = 0
        self.stopping = False
        # Caller speech in progress: frames to send, and who waits for the end.
        self._speech: Iterator[bytes] | None = None
        self._speech_done: asyncio.Future[float] | None = None
        # When the last speech frame so far went out (ms): the caller's speech
        # ended then, since a frame carries the 20 ms captured before it is sent
        # (as Twilio's do, and as the server counts it). Speech runs out a tick
        # later; recording that tick instead would add 20 ms to every turn.
        self._speech_sent_ms: float | None = None
        self._send_times: dict[int, float] = {}
        # Playback of the assistant's audio, in bytes (8 per ms).
        self.playback = Playback(self.t0)
        self.open_turn: TurnStats | None = None
        self.heard_turn: TurnStats | None = None  # its reply arrived, not yet played
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def now_ms(self) -> float:
        return (self.loop.time() - self.t0) * 1000

    async def _send(self, message: dict[str, Any]) -> None:
        self.seq += 1
        message["sequenceNumber"] = str(self.seq)
        await self.ws.send(orjson.dumps(message).decode())

    async def open(self) -> None:
        """``connected`` then ``start``; the 20 ms clock starts now."""
        await self.ws.send(
            orjson.dumps(
                {"event": "connected", "protocol": "Call", "version": "1.0.0"}
            ).decode()
        )
        report = self.report
        if self.start_delay_ms:
            await asyncio.sleep(self.start_delay_ms / 1000)
        await self._send(
            {
                "event": "start",
                "streamSid": report.stream_sid,
                "start": {
                    "accountSid": report.account_sid,
                    "streamSid": report.stream_sid,
                    "callSid": report.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": self.custom_parameters,
                    "mediaFormat": {
                        "encoding": "audio/x-mulaw",
                        "sampleRate": 8000,
                        "channels": 1,
                    },
                },
            }
        )
        self.t0 = self.loop.time()
        self.playback = Playback(self.t0)

    # The 20 ms clock: caller audio out, assistant audio played.

    async def run_sender(self) -> None:
        frame_index = 0
        while not self.stopping:
            target = self.t0 + frame_index * FRAME_S
            lag = (self.loop.time() - target) * 1000
            if lag > self.report.max_send_lag_ms:
                self.report.max_send_lag_ms = lag
            await self._send_media(self._next_frame(frame_index), frame_index)
            self._play_tick()
            frame_index += 1
            delay = self.t0 + frame_index * FRAME_S - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    def _next_frame(self, index: int) -> bytes:
        if self._speech is None:
            return audio.SILENCE_FRAME
        frame = next(self._speech, None)
        now_ms = self.now_ms()
        if frame is None:
            self._speech = None
            if self._speech_done is not None and not self._speech_done.done():
                ended = self._speech_sent_ms
                self._speech_done.set_result(now_ms if ended is None else ended)
            return audio.SILENCE_FRAME
        self._speech_sent_ms = now_ms
        if self.stream_tag is not None:
            frame = audio.tag_frame(frame, stream_id=self.stream_tag, counter=index)
            self._send_times[index] = self.loop.time()
            self.report.tagged_sent += 1
        return frame

    async def _send_media(self, frame: bytes, index: int) -> None:
        self.seq += 1
        payload = base64.b64encode(frame).decode()
        # Formatted by hand: this runs 50 times a second per call.
        await self.ws.send(
            f'{{"event":"media","sequenceNumber":"{self.seq}",'
            f'"streamSid":"{self.report.stream_sid}","media":{{"track":"inbound",'
            f'"chunk":"{index + 1}","timestamp":"{index * 20}",'
            f'"payload":"{payload}"}}}}'
        )
        self.report.frames_sent += 1

    def _play_tick(self) -> None:
        played, due = self.playback.tick(self.loop.time())
        self.report.audio_bytes_played += played
        for name in due:
            self._echo_mark(name)
        self._check_waiters()

    def _echo_mark(self, name: str) -> None:
        self.report.marks_returned.append(name)
        heard = self.heard_turn
        if heard is not None and heard.speech_end_ms is not None:
            heard.heard_latency_ms = self.now_ms() - heard.speech_end_ms
            self.heard_turn = None
        message = {
            "event": "mark",
            "streamSid": self.report.stream_sid,
            "mark": {"name": name},
        }
        task = self.loop.create_task(self._send_quietly(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        except ConnectionClosed:
            logger.debug("stream closed before a message could be sent")

    # What the server sends.

    async def run_receiver(self) -> None:
        async for message in self.ws:
            if isinstance(message, bytes):
                self.report.errors.append("binary frame received (Twilio error 31950)")
                continue
            try:
                event = orjson.loads(message)
            except orjson.JSONDecodeError:
                self.report.errors.append(f"invalid JSON received: {message[:80]!r}")
                continue
            self._dispatch(event)

    def _dispatch(self, event: Any) -> None:
        kind = event.get("event") if isinstance(event, dict) else None
        if kind not in ("media", "mark", "clear"):
            self.report.errors.append(
                f"unexpected message (Twilio 31951): {str(event)[:120]}"
            )
            return
        if event.get("streamSid") != self.report.stream_sid:
            self.report.errors.append(f"{kind} with a wrong streamSid (Twilio 31951)")
            return
        if kind == "media":
            self._on_media(event)
        elif kind == "mark":
            self._on_mark(event)
        else:
            self._on_clear()

    def _on_media(self, event: dict[str, Any]) -> None:
        try:
            chunk = base64.b64decode(event["media"]["payload"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError):
            self.report.errors.append("media without a valid base64 payload")
            return
        now = self.loop.time()
        report = self.report
        report.frames_received += 1
        report.audio_bytes_received += len(chunk)
        if report.first_audio_ms is None:
            report.first_audio_ms = self.now_ms()
        self.playback.add(len(chunk))
        turn = self.open_turn
        if turn is not None and turn.speech_end_ms is not None:
            turn.reply_latency_ms = self.now_ms() - turn.speech_end_ms
            self.open_turn = None
            self.heard_turn = turn
        if self.stream_tag is not None:
            self._match_tag(chunk, now)

    def _match_tag(self, chunk: bytes, now: float) -> None:
        tag = audio.read_tag(chunk)
        if tag is None:
            return
        stream_id, counter = tag
        if stream_id != self.stream_tag:
            self.report.foreign_frames += 1
            return
        sent_at = self._send_times.pop(counter, None)
        if sent_at is not None:
            self.report.tagged_received += 1
            self.report.rtts_ms.append((now - sent_at) * 1000)

    def _on_mark(self, event: dict[str, Any]) -> None:
        name = str((event.get("mark") or {}).get("name", ""))
        for due in self.playback.mark(name):
            self._echo_mark(due)

    def _on_clear(self) -> None:
        self.report.clears += 1
        self.report.clear_times_ms.append(self.now_ms())
        dropped, due = self.playback.clear(self.loop.time())
        self.report.audio_bytes_cleared += dropped
        for name in due:
            self._echo_mark(name)
        self._check_waiters()

    # What the script does.

    def speak(
        self, frames: Iterator[bytes], turn: TurnStats | None
    ) -> asyncio.Future[float]:
        """Send ``frames`` from the next tick on; resolves to the end time (ms)."""
        if self._speech_done is not None and not self._speech_done.done():
            self._speech_done.cancel()
        self._speech = frames
        self._speech_done = self.loop.create_future()
        self._speech_sent_ms = None  # no frame of this speech sent yet
        if turn is not None:
            self.open_turn = turn
        return self._speech_done

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (checked every tick) until ``predicate()``; False on timeout."""
        if predicate():
            return True
        future: asyncio.Future[None] = self.loop.create_future()
        self._waiters.append((predicate, future))
        try:
            await asyncio.wait_for(future, timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    def _check_waiters(self) -> None:
        for predicate, future in self._waiters:
            if not future.done() and predicate():
                future.set_result(None)

    async def send_dtmf(self, digit: str) -> None:
        await self._send(
            {
                "event": "dtmf",
                "streamSid": self.report.stream_sid,
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )
        self.report.dtmf_sent.append(digit)

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def stop(self) -> None:
        """Hang up: ``stop``, then close the socket like Twilio does."""
        self.stopping = True
        report = self.report
        try:
            await self._send(
                {
                    "event": "stop",
                    "streamSid": report.stream_sid,
                    "stop": {
                        "accountSid": report.account_sid,
                        "callSid": report.call_sid,
                    },
                }
            )
            await self.ws.close()
        except ConnectionClosed:
            logger.debug("stream already closed at hang-up")
