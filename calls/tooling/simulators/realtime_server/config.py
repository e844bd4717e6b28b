"""Settings, scripts and fault switches of the Realtime simulator, plus its CLI flags.

``SimulatorConfig`` is read when a connection opens (and its ``faults`` too), so a
test can change it between calls of a running simulator. The argparse helpers are
shared by ``python -m calls.tooling.simulators.realtime_server`` and the management
command.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from calls.tooling.simulators.realtime_server.tool_script import (
    ScriptedToolCall,
    parse_tool_call,
)

MODES = ("conversation", "echo")

DEFAULT_CALLER_LINES = (
    "Hi, I'd like to book an appointment.",
    "Tuesday morning would be great.",
    "No, that's everything. Thank you!",
)
DEFAULT_ANSWERS = (
    "Sure, I can help you book an appointment. What day works best for you?",
    "Tuesday at nine in the morning is booked for you. See you then!",
    "You're welcome. Have a lovely day, goodbye!",
)
DEFAULT_GREETING = "Hello, thanks for calling! How can I help you today?"


@dataclass
class Faults:
    """Misbehaviour on request. Read when each connection opens."""

    reject_all_keys: bool = False  # every handshake gets HTTP 401
    slow_start_ms: int = 0  # delay before session.created
    expire_after_s: float | None = None  # error session_expired, then close 1001
    drop_after_s: float | None = None  # TCP connection cut without a close frame
    reject_session_update: bool = False  # every session.update gets an error


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port; see RealtimeSimulator.port
    mode: str = "conversation"
    api_key: str | None = None  # None accepts any non-empty key
    caller_lines: list[str] = field(default_factory=lambda: list(DEFAULT_CALLER_LINES))
    answers: list[str] = field(default_factory=lambda: list(DEFAULT_ANSWERS))
    greeting: str = DEFAULT_GREETING
    transcription_delay_ms: int = 150
    first_audio_delay_ms: int = 300  # the "model latency" before the first delta
    # How long after the silence ends a turn the VAD says so (speech_stopped).
    vad_delay_ms: int = 0
    ms_per_char: int = 55  # answer audio length per character of its text
    max_answer_ms: int = 8000
    chunk_ms: int = 100  # audio per response.output_audio.delta
    # How much faster than real time answer audio is generated; 0 means no pacing.
    realtime_factor: float = 4.0
    faults: Faults = field(default_factory=Faults)
    # Caller turns answered with a function call instead of speech.
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's command-line flags (shared with the management command)."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="conversation",
        help="conversation: transcripts and scripted answers; echo: every audio "
        "chunk straight back, to measure the call runtime (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key", default=None, help="accept only this key (default: any)"
    )
    parser.add_argument(
        "--caller-line",
        action="append",
        dest="caller_lines",
        help="a transcript for the caller's next turn (repeat; default: a script)",
    )
    parser.add_argument(
        "--answer",
        action="append",
        dest="answers",
        help="the assistant's next answer (repeat; default: a script)",
    )
    parser.add_argument(
        "--greeting",
        default=DEFAULT_GREETING,
        help="what the assistant says when asked to greet (default: %(default)r)",
    )
    parser.add_argument(
        "--first-audio-delay-ms",
        type=int,
        default=300,
        help="the model's think time before an answer's first audio "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--vad-delay-ms",
        type=int,
        default=0,
        help="send speech_stopped this long after the silence that ends a turn",
    )
    parser.add_argument(
        "--transcription-delay-ms",
        type=int,
        default=150,
        help="how long the caller's transcript takes after a turn "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--ms-per-char",
        type=int,
        default=55,
        help="spoken length of an answer per character (default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-ms",
        type=int,
        default=100,
        help="audio per response.output_audio.delta (default: %(default)s)",
    )
    parser.add_argument(
        "--realtime-factor",
        type=float,
        default=4.0,
        help="how much faster than real time answers are generated "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--tool-call",
        action="append",
        dest="tool_calls",
        type=_tool_call_spec,
        metavar="NAME:JSON",
        help="answer a caller turn by calling a function, e.g. --tool-call "
        '\'lookup_order:{"order_id":"A17"}\'; the next response.create speaks '
        '"The result is: <output>" (repeat: one per turn; default: none)',
    )
    parser.add_argument(
        "--tool-call-after",
        type=int,
        default=1,
        metavar="N",
        help="the caller turn the first --tool-call answers (default: %(default)s)",
    )
    parser.add_argument(
        "--reject-all-keys",
        action="store_true",
        help="refuse every connection as a bad API key (default: off)",
    )
    parser.add_argument(
        "--slow-start-ms",
        type=int,
        default=0,
        help="wait this long before accepting a connection (default: %(default)s)",
    )
    parser.add_argument(
        "--expire-after-s",
        type=float,
        default=None,
        help="end each session as expired after this long (default: never)",
    )
    parser.add_argument(
        "--drop-after-s",
        type=float,
        default=None,
        help="drop each connection after this long (default: never)",
    )
    parser.add_argument(
        "--reject-session-update",
        action="store_true",
        help="answer session.update with an error, as a server refusing a "
        "setting would (default: off)",
    )


def _tool_call_spec(spec: str) -> str:
    """``--tool-call``'s value, checked while parsing (a usage error, not a crash)."""
    try:
        parse_tool_call(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return spec


def tool_calls_from_options(options: dict[str, Any]) -> list[ScriptedToolCall]:
    """``--tool-call`` specs as scripted calls: the first answers caller turn
    ``--tool-call-after`` (default 1), each further one the turn after."""
    first = options.get("tool_call_after") or 1
    return [
        parse_tool_call(spec, after_turn=first + index)
        for index, spec in enumerate(options.get("tool_calls") or [])
    ]


def config_from_options(options: dict[str, Any]) -> SimulatorConfig:
    """A config from parsed flags (argparse namespace ``vars()`` or Django options)."""
    return SimulatorConfig(
        host=options["host"],
        port=options["port"],
        mode=options["mode"],
        api_key=options["api_key"],
        caller_lines=options["caller_lines"] or list(DEFAULT_CALLER_LINES),
        answers=options["answers"] or list(DEFAULT_ANSWERS),
        greeting=options["greeting"],
        first_audio_delay_ms=options["first_audio_delay_ms"],
        vad_delay_ms=options.get("vad_delay_ms") or 0,
        transcription_delay_ms=options["transcription_delay_ms"],
        ms_per_char=options["ms_per_char"],
        chunk_ms=options["chunk_ms"],
        realtime_factor=options["realtime_factor"],
        tool_calls=tool_calls_from_options(options),
        faults=Faults(
            reject_all_keys=options["reject_all_keys"],
            slow_start_ms=options["slow_start_ms"],
            expire_after_s=options["expire_after_s"],
            drop_after_s=options["drop_after_s"],
            reject_session_update=options["reject_session_update"],
        ),
    )
