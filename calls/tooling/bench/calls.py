"""One simulated Twilio echo call for the load generator: frames out, round trips in.

``EchoCall`` sends a tagged speech-like frame every 20 ms from a timer callback
(no task per frame), matches each returned frame's tag to its send time, plays
the returned audio back in real time and echoes ``mark``\\s once their audio has
played, as Twilio does (``clear`` flushes the queue and echoes every pending mark).
Round trips count only for frames sent inside the measurement window; every
tagged frame counts towards frames lost, from the first one on.
"""

from __future__ import annotations

import asyncio
import binascii
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import orjson

from calls.tooling.bench.wsclient import WebSocketClient
from calls.tooling.simulators import audio

FRAME_S = audio.FRAME_MS / 1000
LATE_TICK_S = 0.005  # a tick this late means the load generator itself lags
CLOSE_WAIT_S = 5.0
# The tag fills the first 9 bytes (12 base64 characters, a whole number of base64
# quanta), so a frame's base64 is the tag's plus the untagged rest's, computed once.
TAG_CHARS = audio.TAG_BYTES * 4 // 3
_LOOP_FRAMES = len(audio.speech_loop()) // audio.FRAME_BYTES
_REST_B64 = [
    binascii.b2a_base64(
        audio.speech_frame(i)[audio.TAG_BYTES :], newline=False
    ).decode()
    for i in range(_LOOP_FRAMES)
]
_NO_AUDIO = bytes(audio.TAG_BYTES)


def payload_for(stream_id: int, counter: int) -> str:
    """Base64 of speech frame ``counter``, tagged ``(stream_id, counter)``."""
    tag = audio.tag_frame(_NO_AUDIO, stream_id=stream_id, counter=counter)
    head = binascii.b2a_base64(tag, newline=False).decode()
    return head + _REST_B64[counter % _LOOP_FRAMES]


def decoded_size(payload: str) -> int:
    return len(payload) * 3 // 4 - payload.count("=", -2)


class EchoCall:
    def __init__(
        self,
        *,
        index: int,
        call_sid: str,
        account_sid: str,
        stream_sid: str,
        phase_s: float,
    ) -> None:
        self.index = index
        self.call_sid = call_sid
        self.account_sid = account_sid
        self.stream_sid = stream_sid
        self.phase_s = phase_s
        # The measurement window in perf_counter() time; set once all calls are up.
        self.window_start = self.window_end = float("inf")
        self.loop = asyncio.get_running_loop()
        self.ws: WebSocketClient | None = None
        self.errors: list[str] = []
        self.seq = 0
        self.up = False  # set up: webhook, upgrade and start went through
        self.sending = False
        # Streaming time in perf_counter(): from start to the hang-up (or close).
        self.started_at: float | None = None
        self.ended_at: float | None = None
        # Done when the first frame comes back: the whole bridge is up.
        self.first_back: asyncio.Future[None] = self.loop.create_future()
        self.first_back_counter = -1
        self.hung_up = False
        self.server_closed = False
        self._tick_handle: asyncio.TimerHandle | None = None
        self._first_tick = 0.0
        self._frame = 0
        self._send_times: dict[int, float] = {}
        self.first_counter: int | None = None
        # Results.
        self.sent = 0
        self.received = 0
        self.foreign = 0
        self.rtts_ms: list[float] = []
        self.first_rtt_ms: float | None = None
        self.max_tick_lag_s = 0.0
        self.late_ticks = 0
        self.marks_echoed = 0
        self.clears = 0
        # Playback (bytes of audio) and marks waiting for it.
        self.queued = 0
        self.received_total = 0
        self.played_total = 0
        self._marks: deque[tuple[int, str]] = deque()
        self._media_head = (
            '{"event":"media","streamSid":"' + stream_sid + '","media":{"payload":"'
        )

    # -- setup ---------------------------------------------------------------

    async def connect(
        self, host: str, port: int, path: str, headers: Mapping[str, str]
    ) -> None:
        _, ws = await self.loop.create_connection(
            lambda: WebSocketClient(self.on_text, self.on_close), host, port
        )
        self.ws = ws
        ws.send_upgrade(f"{host}:{port}", path, headers)
        await asyncio.wait_for(ws.upgraded(), 10)

    def start(self, custom_parameters: dict[str, str]) -> None:
        """``connected`` and ``start``, then frames on this call's 20 ms grid."""
        self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self._send(
            {
                "event": "start",
                "streamSid": self.stream_sid,
                "start": {
                    "accountSid": self.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": custom_parameters,
                    "mediaFormat": {
                        "encoding": "audio/x-mulaw",
                        "sampleRate": 8000,
                        "channels": 1,
                    },
                },
            }
        )
        now = self.loop.time()
        # The next instant on this call's grid: phases spread the calls' ticks.
        ticks = int((now - self.phase_s) / FRAME_S) + 1
        self._first_tick = self.phase_s + ticks * FRAME_S
        self.up = self.sending = True
        self.started_at = time.perf_counter()
        self._tick_handle = self.loop.call_at(self._first_tick, self._tick)

    # -- the 20 ms clock -------------------------------------------------------

    def _tick(self) -> None:
        due = self._first_tick + self._frame * FRAME_S
        lag = self.loop.time() - due
        if lag > self.max_tick_lag_s:
            self.max_tick_lag_s = lag
        if lag > LATE_TICK_S:
            self.late_ticks += 1
        if self.sending:
            self._send_frame(self._frame)
        self._play()
        self._frame += 1
        self._tick_handle = self.loop.call_at(due + FRAME_S, self._tick)

    def _send_frame(self, counter: int) -> None:
        payload = payload_for(self.index, counter)
        self.seq += 1
        # Formatted by hand (like the Twilio simulator): 50 a second per call.
        text = (
            f'{{"event":"media","sequenceNumber":"{self.seq}",'
            f'"streamSid":"{self.stream_sid}","media":{{"track":"inbound",'
            f'"chunk":"{counter + 1}","timestamp":"{counter * 20}",'
            f'"payload":"{payload}"}}}}'
        )
        if self.first_counter is None:
            self.first_counter = counter
        self._send_times[counter] = time.perf_counter()
        assert self.ws is not None
        self.ws.send_text(text)
        self.sent += 1

    def _play(self) -> None:
        if self.queued:
            played = min(audio.FRAME_BYTES, self.queued)
            self.queued -= played
            self.played_total += played
        while self._marks and self._marks[0][0] <= self.played_total:
            self._echo_mark(self._marks.popleft()[1])

    def _echo_mark(self, name: str) -> None:
        self.marks_echoed += 1
        self._send(
            {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
        )

    def _send(self, message: dict[str, object]) -> None:
        if message["event"] != "connected":
            self.seq += 1
            message["sequenceNumber"] = str(self.seq)
        if self.ws is not None:
            self.ws.send_text(orjson.dumps(message).decode())

    # -- what the server sends -----------------------------------------------

    def on_text(self, text: str) -> None:
        # Media in the server's usual shape skips the JSON parser; anything else
        # (or media shaped differently) takes the general path below.
        if text.startswith(self._media_head) and text.endswith('"}}'):
            self._on_payload(text[len(self._media_head) : -3])
            return
        try:
            message = orjson.loads(text)
            event = message["event"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.errors.append(f"unreadable message {text[:80]!r}")
            return
        if message.get("streamSid") != self.stream_sid:
            self.errors.append(f"{event} with a wrong streamSid")
        elif event == "media":
            self._on_media(message)
        elif event == "mark":
            self._on_mark(str(message["mark"]["name"]))
        elif event == "clear":
            self._on_clear()
        else:
            self.errors.append(f"unexpected event {str(event)[:40]!r}")

    def _on_media(self, message: dict[str, Any]) -> None:
        try:
            payload = message["media"]["payload"]
        except (KeyError, TypeError):
            payload = None
        if not isinstance(payload, str) or '"' in payload or "\\" in payload:
            self.errors.append("media without a valid payload")
            return
        self._on_payload(payload)

    def _on_payload(self, payload: str) -> None:
        now = time.perf_counter()
        size = decoded_size(payload)
        self.queued += size
        self.received_total += size
        try:
            tag = audio.read_tag(binascii.a2b_base64(payload[:TAG_CHARS]))
        except binascii.Error:
            self.errors.append("media with an invalid base64 payload")
            return
        if tag is None:
            return
        stream_id, counter = tag
        if stream_id != self.index:
            self.foreign += 1
            return
        sent_at = self._send_times.pop(counter, None)
        if sent_at is None:
            return  # a duplicate
        self.received += 1
        rtt_ms = (now - sent_at) * 1000
        if counter == self.first_counter:
            self.first_rtt_ms = rtt_ms
        if not self.first_back.done():
            self.first_back_counter = counter
            self.first_back.set_result(None)
        if self.window_start <= sent_at < self.window_end:
            self.rtts_ms.append(rtt_ms)

    def _on_mark(self, name: str) -> None:
        if self.queued:
            self._marks.append((self.received_total, name))
        else:
            self._echo_mark(name)

    def _on_clear(self) -> None:
        self.clears += 1
        self.received_total -= self.queued
        self.queued = 0
        while self._marks:
            self._echo_mark(self._marks.popleft()[1])

    def on_close(self) -> None:
        if not self.hung_up:
            self.server_closed = True
            self._ended()
        if self._tick_handle is not None:
            self._tick_handle.cancel()

    # -- the end ---------------------------------------------------------------

    def stop_sending(self) -> None:
        self.sending = False

    def hang_up(self) -> None:
        """``stop`` and a close frame, as Twilio does when the caller hangs up."""
        self.hung_up = True
        self._ended()
        if self._tick_handle is not None:
            self._tick_handle.cancel()
        if self.ws is not None and self.ws.open:
            self._send(
                {
                    "event": "stop",
                    "streamSid": self.stream_sid,
                    "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
                }
            )
            self.ws.close()

    def abort(self) -> None:
        self.hung_up = True
        self._ended()
        if self._tick_handle is not None:
            self._tick_handle.cancel()
        if self.ws is not None:
            self.ws.abort()

    async def drained(self, timeout_s: float) -> None:
        """Wait (bounded) for the frames sent after the first one back to return:
        a call that hangs up at once should not count its frames in flight lost.
        Frames before it that never came back stay lost."""
        deadline = self.loop.time() + timeout_s
        # A poll, once per such call: an event set per received frame would cost
        # every frame of every call.
        for _ in range(int(timeout_s / FRAME_S) * 2):
            pending = any(c > self.first_back_counter for c in self._send_times)
            if not pending or self.loop.time() >= deadline:
                return
            await asyncio.sleep(FRAME_S / 2)

    def _ended(self) -> None:
        if self.ended_at is None and self.started_at is not None:
            self.ended_at = time.perf_counter()

    @property
    def streamed_s(self) -> float:
        """How long this call streamed: start to hang-up (0 if it never started)."""
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return end - self.started_at

    async def closed(self) -> None:
        if self.ws is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.ws.closed), CLOSE_WAIT_S)
        except TimeoutError:
            self.errors.append("the server did not close the stream after stop")
            self.ws.abort()
