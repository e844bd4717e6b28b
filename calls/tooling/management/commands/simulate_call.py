"""``manage.py simulate_call``: place one simulated Twilio call at a running server.

Posts the signed voice webhook, streams speech-like audio (or a WAV file) for a few
turns, optionally interrupts an answer or presses keys, then prints what the call
sounded like from Twilio's side and what the server recorded in the database.
Signatures use ``TWILIO_AUTH_TOKEN`` and ``PUBLIC_BASE_URL`` from the settings.
"""

from __future__ import annotations

import asyncio
import time
from io import TextIOBase
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls import pricing
from calls.engines import registry
from calls.models import Call, TranscriptRole
from calls.review.display import engine_label, engine_of, usage_of
from calls.review.selectors import TURN_ROLES
from calls.tooling.simulators.audio import read_wav
from calls.tooling.simulators.twilio_caller import (
    CallerOptions,
    CallReport,
    HangUp,
    Pause,
    Step,
    TwilioCaller,
    default_script,
    parse_press,
)

# A small shipped WAV (1.2 s of speech-like sound, 8 kHz mono) for --audio.
SAMPLE_WAV = "calls/tooling/simulators/samples/hello.wav"


def place_call(options: CallerOptions) -> CallReport:
    return asyncio.run(TwilioCaller(options).run())


def wait_for_call(call_sid: str, timeout_s: float = 5.0) -> Call | None:
    """The call's row once the server has finalised it (or as it is at timeout)."""
    deadline = time.monotonic() + timeout_s
    call = None
    while time.monotonic() < deadline:
        call = Call.objects.filter(call_sid=call_sid).first()
        if call is not None and call.ended_at is not None:
            return call
        time.sleep(0.2)
    return call


def with_stay_on(script: list[Step], seconds: float) -> list[Step]:
    """``script`` with a silent wait of ``seconds`` before its hang-up (the
    assistant may end the call first: a silence hang-up, say)."""
    if seconds <= 0:
        return script
    *steps, last = script
    if isinstance(last, HangUp):
        return [*steps, Pause(int(seconds * 1000)), last]
    return [*script, Pause(int(seconds * 1000))]


def describe_verb(verb: tuple[str, ...]) -> str:
    """One TwiML verb from ``CallReport.after_stream`` as a line of the summary."""
    name, *args = verb
    if name == "say":
        return f'say "{args[0]}"'
    if name == "dial":
        caller_id = f" (callerId {args[1]})" if args[1] else ""
        return f"dial {args[0]}{caller_id}"
    return " ".join([name, *args])


def print_report(report: CallReport, out: TextIOBase) -> None:
    """What the caller experienced, in a few lines."""
    out.write(f"Call {report.call_sid} (stream {report.stream_sid or 'none'})\n")
    for text in report.says:
        out.write(f'  Twilio said: "{text}"\n')
    if report.first_audio_ms is not None:
        out.write(f"  First assistant audio after {report.first_audio_ms:.0f} ms\n")
    for turn in report.turns:
        kind = " (barge-in)" if turn.barge_in else ""
        latency = (
            f"reply after {turn.reply_latency_ms:.0f} ms"
            if turn.reply_latency_ms is not None
            else "no reply"
        )
        # A turn is one side speaking once (as on the call page); these are
        # the caller's.
        out.write(f"  Caller turn {turn.index}{kind}: {latency}\n")
    out.write(
        f"  Clears: {report.clears}, marks returned: {len(report.marks_returned)}, "
        f"assistant audio played: {report.audio_ms_played / 1000:.1f} s, "
        f"frames sent/received: {report.frames_sent}/{report.frames_received}\n"
    )
    out.write(
        f"  Hung up by: {report.hung_up_by or '-'}, close code {report.close_code}\n"
    )
    for update in report.rest_updates:
        out.write(f"  REST update of the live call: {update}\n")
    if report.next_twiml_from:
        out.write(f"  After the stream ({report.next_twiml_from}), Twilio runs:\n")
        for verb in report.after_stream:
            out.write(f"    {describe_verb(verb)}\n")
        if not report.after_stream:
            out.write("    nothing (the call ends)\n")
    if report.dial_status:
        out.write(f"  <Dial action> posted DialCallStatus={report.dial_status}\n")
    if len(report.stream_sids) > 1:
        out.write(f"  Streams opened: {len(report.stream_sids)}\n")
    for error in report.errors:
        out.write(f"  ERROR: {error}\n")


def print_call(call: Call | None, out: TextIOBase) -> None:
    """What the server recorded: transcript, status, usage."""
    if call is None:
        out.write("The server recorded no call.\n")
        return
    out.write("Transcript (from the database):\n")
    entries = list(call.transcript_entries.all())
    for entry in entries:
        flags = " [interrupted]" if entry.interrupted else ""
        flags += " [not transcribed]" if entry.failed else ""
        latency = f" ({entry.reply_latency_ms} ms)" if entry.reply_latency_ms else ""
        text = entry.text
        if entry.role == TranscriptRole.TOOL:
            text = f"{entry.tool_name}({entry.tool_arguments}) -> {entry.text}"
            flags += f" [{entry.tool_status}]" if entry.tool_status else ""
        out.write(f"  {entry.role:>9}: {text}{flags}{latency}\n")
    # Counted as the call page counts them: the caller's and the assistant's.
    turns = sum(1 for e in entries if e.role in TURN_ROLES)
    out.write(
        f"Outcome: {call.outcome or 'in progress'}, Twilio status: {call.status}, "
        f"ended: {call.end_reason or '-'}, duration {call.duration_seconds} s, "
        f"turns {turns} (caller and assistant), bad frames {call.bad_frames}\n"
    )
    out.write(
        f"Tokens: input {call.input_tokens} (audio {call.input_audio_tokens}, "
        f"cached {call.cached_text_tokens + call.cached_audio_tokens}), "
        f"output {call.output_tokens} (audio {call.output_audio_tokens})\n"
    )
    # Priced for the engine that ran it: GPT-Live per minute of session.
    engine = engine_of(call.assistant_snapshot)
    cost = pricing.estimate(
        usage_of(call), pricing.Prices.from_settings(settings), engine=engine
    )
    spec = registry.find(engine)
    # Session time is a figure only for engines billed by it (GPT-Live).
    session = (
        f", session {call.session_seconds} s"
        if spec is not None and spec.billing.unit == "session_seconds"
        else ""
    )
    out.write(
        f"Engine: {engine_label(engine) or '-'}{session}, "
        f"estimated cost {pricing.format_usd(cost.total_usd)}\n"
    )
    if call.error:
        out.write(f"Error: {call.error}\n")


class Command(BaseCommand):
    help = "Place a simulated Twilio call at a running server and print the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            default="+15550000100",
            help="The number called: one an assistant answers (default: "
            "%(default)s, the demo assistant's; `make demo` creates it).",
        )
        parser.add_argument(
            "--from",
            dest="from_number",
            default="+15557654321",
            help="The caller's number (default: %(default)s).",
        )
        parser.add_argument(
            "--audio",
            help="A 16-bit PCM WAV file to say each turn, e.g. the shipped "
            f"{SAMPLE_WAV} (default: generated speech-like sound).",
        )
        parser.add_argument(
            "--base-url",
            default=f"http://127.0.0.1:{settings.PORT}",
            help="The running server (default: %(default)s, from PORT).",
        )
        parser.add_argument(
            "--public-url",
            help="The origin Twilio would use, for the signatures (default: "
            "PUBLIC_BASE_URL, else --base-url).",
        )
        parser.add_argument(
            "--turns",
            type=int,
            default=2,
            help="How many times the caller speaks (default: %(default)s). A turn "
            "is one side speaking once, as counted on the call page.",
        )
        parser.add_argument(
            "--barge-in",
            action="store_true",
            help="Interrupt the assistant's first answer (default: off).",
        )
        parser.add_argument(
            "--dtmf",
            default="",
            help="Keys to press after the first turn, e.g. 5 or 12# (default: none).",
        )
        parser.add_argument(
            "--press",
            action="append",
            default=[],
            metavar="KEYS@MS",
            help="Press keys this many ms after the stream opens, whatever the "
            "caller is doing, e.g. --press 0@2000 (repeat; default: none).",
        )
        parser.add_argument(
            "--stay-on",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="After its turns, stay on the line this long, silent, before "
            "hanging up: to hear the assistant's silence reprompt and hang-up, or "
            "to --press keys late in the call (default: hang up at once).",
        )
        parser.add_argument(
            "--dial-outcome",
            default="answered",
            choices=["answered", "no-answer", "busy", "failed", "canceled"],
            help="What the person a transfer dials does (Twilio's DialCallStatus "
            "for the <Dial action>); not answered, the caller comes back to the "
            "assistant on a new stream (default: answered).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            spoken = read_wav(options["audio"]) if options["audio"] else None
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['audio']}: {exc}") from exc
        try:
            presses = [parse_press(spec) for spec in options["press"]]
        except ValueError as exc:
            raise CommandError(f"--press {exc}") from exc
        caller = CallerOptions(
            base_url=options["base_url"],
            public_url=options["public_url"]
            or settings.PUBLIC_BASE_URL
            or options["base_url"],
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=options["from_number"],
            to_number=options["to"],
            script=with_stay_on(
                default_script(
                    turns=options["turns"],
                    barge_in=options["barge_in"],
                    dtmf=options["dtmf"],
                    audio=spoken,
                ),
                options["stay_on"],
            ),
            presses=presses,
            dial_outcome=options["dial_outcome"],
        )
        report = place_call(caller)
        print_report(report, self.stdout)
        print_call(wait_for_call(report.call_sid), self.stdout)
