"""One simulated Twilio call from ringing to the status callback; many at once.

``TwilioCaller(options).run()`` posts the signed voice webhook, reads the TwiML,
opens the signed media stream on the local server, runs the script, and after the
stream ends does what Twilio does next: the ``<Connect action>`` request when the
server closed the stream (its TwiML answer is read into the report: what was said,
dialled, hung up), then the ``completed`` status callback. ``run_calls`` runs
several callers concurrently (the benchmark's load generator).

With ``CallerOptions(rest_api=TwilioRestApi(...))`` the call is registered with the
REST stand-in and obeys updates of the live call as Twilio does: ``Status=completed``
ends the stream (``stop``, no ``<Connect action>``); ``Twiml`` or ``Url`` ends it
too and the new TwiML is what runs next.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from calls.tooling.simulators import audio
from calls.tooling.simulators.twilio_caller.report import CallReport
from calls.tooling.simulators.twilio_caller.rest_api import CallUpdate, TwilioRestApi
from calls.tooling.simulators.twilio_caller.script import (
    KEY_GAP_MS,
    HangUp,
    KeyPress,
    Speak,
    Step,
    WaitForReply,
    default_script,
)
from calls.tooling.simulators.twilio_caller.steps import ScriptRunner
from calls.tooling.simulators.twilio_caller.stream import MediaStream
from calls.tooling.simulators.twilio_caller.webhook import (
    new_sid,
    parse_twiml,
    post_signed,
    sign,
    stream_target,
    twiml_verbs,
)

logger = logging.getLogger(__name__)


@dataclass
class CallerOptions:
    base_url: str = "http://127.0.0.1:8000"  # where the server listens
    public_url: str = ""  # the origin it believes it has; default base_url
    stream_base_url: str = ""  # where media streams connect; default base_url
    auth_token: str = ""
    account_sid: str = field(default_factory=lambda: new_sid("AC"))
    from_number: str = "+15557654321"
    to_number: str = "+15550000100"
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    script: list[Step] = field(default_factory=default_script)
    # Keys pressed at set times after the stream opens, alongside the script.
    presses: list[KeyPress] = field(default_factory=list)
    voice_path: str = "/twilio/voice/"
    status_path: str = "/twilio/status/"  # "" skips the status callback
    status_delay_ms: int = 300  # Twilio posts it a moment after the hang-up
    stream_tag: int | None = None  # tag frames (echo-mode round trips)
    tamper_signature: bool = False  # sign the stream upgrade with a wrong token
    tamper_token: bool = False  # alter the stream URL's token (signed correctly)
    # Twilio sends ``start`` right after the upgrade; a delay here shows what
    # opening the Realtime leg at the upgrade (before ``start``) saves.
    start_delay_ms: int = 0
    connect_timeout_s: float = 10.0
    max_call_s: float = 300.0
    # Twilio's REST API stand-in: the call registers with it (under its account
    # SID) and obeys its updates while the stream is live.
    rest_api: TwilioRestApi | None = None
    # A transfer's ``<Dial action>``: what the person dialled does ("answered",
    # "no-answer", "busy", "failed" or "canceled"), and the caller's script when
    # Twilio then brings them back to the assistant on a new stream of the call.
    dial_outcome: str = "answered"
    resume_script: list[Step] = field(default_factory=lambda: resume_script())

    @property
    def origin(self) -> str:
        return (self.public_url or self.base_url).rstrip("/")


# Streams one simulated call may open (a transfer nobody answered, again...).
MAX_STREAMS = 5


def resume_script() -> list[Step]:
    """Back with the assistant after a transfer: hear it, say a thing, hang up."""
    return [
        WaitForReply(timeout_s=10),
        Speak(800),
        WaitForReply(optional=True, timeout_s=10),
        HangUp(),
    ]


def dial_action_url(document: str) -> str:
    """The ``action`` of a TwiML answer's first ``<Dial>``, if any."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return ""
    dial = root.find("Dial")
    return dial.get("action", "") if dial is not None else ""


def tamper_last_segment(url: str) -> str:
    """``url`` with one character in the middle of its last path segment changed.

    The middle, not the end: a base64 string's last character may carry unused
    bits, so changing it can leave the decoded token intact.
    """
    head, _, token = url.rstrip("/").rpartition("/")
    if not token:
        return url
    middle = len(token) // 2
    flipped = "B" if token[middle] == "A" else "A"
    return f"{head}/{token[:middle]}{flipped}{token[middle + 1 :]}/"


def wav_audio(path: str | Path) -> bytes:
    """A WAV file's audio for ``Speak(audio=...)``."""
    return audio.read_wav(path)


class TwilioCaller:
    def __init__(self, options: CallerOptions) -> None:
        if options.rest_api is not None:
            # A call belongs to the account whose credentials can update it.
            options = replace(options, account_sid=options.rest_api.account_sid)
        self.options = options
        self.report = CallReport(
            call_sid=options.call_sid, account_sid=options.account_sid
        )
        self.stream: MediaStream | None = None
        self._started = 0.0
        # A REST update of the live call, set from the stand-in's thread.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._live = False
        self._rest_update: CallUpdate | None = None
        self._rest_ended = asyncio.Event()
        self._presses = list(options.presses)
        self._press_tasks: set[asyncio.Task[None]] = set()

    def press_keys(self, digits: str, *, after_ms: int = 0) -> None:
        """Press ``digits`` (``dtmf`` frames) ``after_ms`` from now on a live
        stream, or from the stream's start before it is open. Call it on the
        caller's event loop (e.g. from a ``Hook`` step) or before ``run``."""
        press = KeyPress(digits, after_ms)
        if self._live and self.stream is not None:
            self._schedule_press(self.stream, press)
        else:
            self._presses.append(press)

    def _schedule_press(self, stream: MediaStream, press: KeyPress) -> None:
        task = asyncio.create_task(self._press(stream, press))
        self._press_tasks.add(task)
        task.add_done_callback(self._press_tasks.discard)

    @staticmethod
    async def _press(stream: MediaStream, press: KeyPress) -> None:
        await asyncio.sleep(press.at_ms / 1000)
        for index, digit in enumerate(press.digits):
            if stream.stopping:
                return
            if index:
                await asyncio.sleep(KEY_GAP_MS / 1000)
            try:
                await stream.send_dtmf(digit)
            except ConnectionClosed:
                return

    def _call_params(self, status: str) -> dict[str, str]:
        o = self.options
        return {
            "CallSid": o.call_sid,
            "AccountSid": o.account_sid,
            "From": o.from_number,
            "To": o.to_number,
            "CallStatus": status,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    async def _post(self, public: str, params: dict[str, str]) -> tuple[int, str]:
        o = self.options
        result = await post_signed(
            public=public,
            params=params,
            auth_token=o.auth_token,
            public_url=o.origin,
            base_url=o.base_url,
        )
        return result.status, result.body

    async def run(self) -> CallReport:
        """Place the call; never raises for what a real call could meet."""
        report, o = self.report, self.options
        self._loop = asyncio.get_running_loop()
        started = self._started = self._loop.time()
        if o.rest_api is not None:
            o.rest_api.register(
                o.call_sid,
                from_number=o.from_number,
                to_number=o.to_number,
                status="ringing",
                on_update=self._on_rest_update,
            )
        try:
            await asyncio.wait_for(self._run(), self.options.max_call_s)
        except TimeoutError:
            report.errors.append(f"call still running after {self.options.max_call_s}s")
        except (OSError, InvalidHandshake) as exc:
            report.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if o.rest_api is not None:
                o.rest_api.set_status(o.call_sid, "completed")
        report.duration_ms = (asyncio.get_running_loop().time() - started) * 1000
        return report

    async def _run(self) -> None:
        o, report = self.options, self.report
        status, body = await self._post(
            o.origin + o.voice_path, self._call_params("ringing")
        )
        report.webhook_status = status
        if status != 200:
            report.errors.append(f"voice webhook answered HTTP {status}")
            return
        report.twiml = body
        if o.rest_api is not None:
            o.rest_api.set_status(o.call_sid, "in-progress")
        twiml = parse_twiml(body)
        report.says.extend(twiml.says)
        if twiml.stream_url:
            await self._stream(twiml.stream_url, twiml.stream_parameters)
            if report.hung_up_by == "rest" and self._rest_update is not None:
                # A REST update ended the stream: Twilio skips <Connect action>.
                await self._follow_rest_update(self._rest_update)
            elif report.hung_up_by == "server" and twiml.connect_action:
                await self._after_stream(twiml.connect_action)
        if o.status_path:
            await asyncio.sleep(o.status_delay_ms / 1000)
            params = self._call_params("completed")
            elapsed = asyncio.get_running_loop().time() - self._started
            params["CallDuration"] = str(round(elapsed))
            await self._post(o.origin + o.status_path, params)

    async def _after_stream(self, action: str) -> None:
        """The ``<Connect action>``, then what its answer leads to: a ``<Dial
        action>`` whose answer may bring the caller back on a new stream, whose
        end requests the ``<Connect action>`` again, and so on."""
        o, report = self.options, self.report
        for _ in range(MAX_STREAMS):
            body = await self._connect_action(action)
            dial_action = dial_action_url(body) if body else ""
            if not dial_action:
                return
            body = await self._dial_action(dial_action)
            if body is None:
                return
            twiml = parse_twiml(body)
            report.says.extend(twiml.says)
            if not twiml.stream_url:
                return
            report.hung_up_by = ""  # this stream's end says who hung up
            await self._stream(
                twiml.stream_url, twiml.stream_parameters, script=o.resume_script
            )
            if report.hung_up_by != "server" or not twiml.connect_action:
                return
            action = twiml.connect_action

    async def _dial_action(self, action: str) -> str | None:
        """Post the ``<Dial action>`` like Twilio, with ``dial_outcome``."""
        o, report = self.options, self.report
        action = urllib.parse.urljoin(o.origin + o.voice_path, action)
        # A conversation with the person dialled ends "completed" for Twilio.
        outcome = "completed" if o.dial_outcome == "answered" else o.dial_outcome
        params = self._call_params("in-progress")
        params.update(DialCallStatus=outcome, DialCallSid=new_sid("CA"))
        if outcome == "completed":
            params["DialCallDuration"] = "5"
        report.dial_status = outcome
        status, body = await self._post(action, params)
        if status != 200:
            report.errors.append(f"<Dial action> answered HTTP {status}")
            return None
        report.dial_action_twiml = body
        return body

    async def _connect_action(self, action: str) -> str | None:
        # Twilio resolves a relative action against the TwiML's URL and signs
        # the absolute URL it requests.
        o = self.options
        action = urllib.parse.urljoin(o.origin + o.voice_path, action)
        status, body = await self._post(action, self._call_params("in-progress"))
        if status != 200:
            self.report.errors.append(f"<Connect action> answered HTTP {status}")
            return None
        self._follow_twiml(body, source="connect-action")
        return body

    async def _follow_rest_update(self, update: CallUpdate) -> None:
        if update.status == "completed":
            return  # hung up: nothing runs next, whatever else the update held
        if update.twiml:
            self._follow_twiml(update.twiml, source="rest-twiml")
        elif update.url:
            # Twilio requests the new URL like any TwiML URL (signed, call params).
            status, body = await self._post(
                update.url, self._call_params("in-progress")
            )
            if status != 200:
                self.report.errors.append(f"redirect URL answered HTTP {status}")
                return
            self._follow_twiml(body, source="rest-url")

    def _follow_twiml(self, body: str, *, source: str) -> None:
        """Record what Twilio would run after the stream: ``body``'s verbs."""
        report = self.report
        report.next_twiml, report.next_twiml_from = body, source
        try:
            verbs = twiml_verbs(body)
        except ET.ParseError as exc:
            # Twilio would end the call with an application error (12100).
            report.errors.append(f"{source} TwiML is not XML: {exc}")
            return
        report.after_stream = verbs
        for verb in verbs:
            if verb[0] == "say":
                report.said_after_stream.append(verb[1])
                report.says.append(verb[1])
            elif verb[0] == "dial" and not report.dialed:
                report.dialed, report.dial_caller_id = verb[1], verb[2]
            elif verb[0] == "hangup":
                report.hung_up_by_twiml = True

    def _on_rest_update(self, update: CallUpdate) -> None:
        """The stand-in accepted an update of this call (on its server thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._rest_updated, update)

    def _rest_updated(self, update: CallUpdate) -> None:
        self.report.rest_updates.append(update.kind)
        if not self._live or self._rest_update is not None:
            # Before the stream or after it, the simulator has nothing to end;
            # a second update during the hang-up changes nothing either.
            return
        self._rest_update = update
        self._rest_ended.set()

    async def _stream(
        self, url: str, parameters: dict[str, str], *, script: list[Step] | None = None
    ) -> None:
        o, report = self.options, self.report
        if o.tamper_token:
            url = tamper_last_segment(url)
        report.stream_url = url
        report.custom_parameters = parameters
        report.stream_sid = new_sid("MZ")
        report.stream_sids.append(report.stream_sid)
        token = "wrong-" + o.auth_token if o.tamper_signature else o.auth_token
        headers = {"X-Twilio-Signature": sign(token, url, {})}
        try:
            ws = await connect(
                stream_target(url, base_url=o.stream_base_url or o.base_url),
                additional_headers=headers,
                compression=None,
                open_timeout=o.connect_timeout_s,
                user_agent_header="Twilio.TmeWs/1.0",
            )
        except InvalidStatus as exc:
            report.handshake_status = exc.response.status_code
            report.errors.append(
                f"stream upgrade refused: HTTP {report.handshake_status}"
            )
            return
        async with ws:
            self.stream = MediaStream(
                ws,
                report,
                custom_parameters=parameters,
                stream_tag=o.stream_tag,
                start_delay_ms=o.start_delay_ms,
            )
            self._live = True
            try:
                await self._converse(self.stream, script)
            finally:
                self._live = False

    async def _converse(
        self, stream: MediaStream, steps: list[Step] | None = None
    ) -> None:
        try:
            await stream.open()
        except ConnectionClosed:
            # The server hung up at once (e.g. its Realtime leg was refused).
            self.report.hung_up_by = "server"
            self._record_close(stream)
            return
        sender = asyncio.create_task(stream.run_sender())
        receiver = asyncio.create_task(stream.run_receiver())
        for press in self._presses:
            self._schedule_press(stream, press)
        self._presses.clear()
        runner = ScriptRunner(
            self.options.script if steps is None else steps, self.report
        )
        script = asyncio.create_task(runner.run(stream))
        rest = asyncio.create_task(self._rest_ended.wait())
        done, _ = await asyncio.wait(
            {receiver, script, sender, rest}, return_when=asyncio.FIRST_COMPLETED
        )
        rest.cancel()
        if rest in done and script not in done and receiver not in done:
            # Twilio ends the stream of a call hung up or redirected over REST:
            # ``stop``, then the socket closes.
            self.report.hung_up_by = "rest"
            stream.stopping = True
            for task in (script, sender):
                task.cancel()
            await stream.stop()
            await asyncio.gather(receiver, sender, script, return_exceptions=True)
            self._record_close(stream)
            return
        script_error = self._failure(script) if script in done else None
        if script not in done or isinstance(script_error, ConnectionClosed):
            # The socket closed (or failed) before the script hung up.
            self.report.hung_up_by = "server"
        elif script_error is not None:
            self.report.errors.append(f"script step failed: {script_error!r}")
        stream.stopping = True
        for task in (script, sender):
            task.cancel()
        if script in done and script_error is None:
            await stream.stop()
        # Failures were recorded above; these only finish the tasks.
        await asyncio.gather(receiver, sender, script, return_exceptions=True)
        self._record_close(stream)

    @staticmethod
    def _failure(task: asyncio.Task[None]) -> BaseException | None:
        return None if task.cancelled() else task.exception()

    def _record_close(self, stream: MediaStream) -> None:
        for task in list(self._press_tasks):
            task.cancel()
        report = self.report
        report.close_code = stream.ws.close_code
        report.close_reason = stream.ws.close_reason or ""
        if not report.hung_up_by:
            report.hung_up_by = "caller"


async def run_calls(
    options: list[CallerOptions], *, stagger_ms: float = 0.0
) -> list[CallReport]:
    """Run several calls at once, starting them ``stagger_ms`` apart."""

    async def one(index: int, opts: CallerOptions) -> CallReport:
        await asyncio.sleep(index * stagger_ms / 1000)
        return await TwilioCaller(opts).run()

    return list(await asyncio.gather(*(one(i, o) for i, o in enumerate(options))))
