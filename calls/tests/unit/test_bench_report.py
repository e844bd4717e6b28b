"""The benchmark's pure helpers (percentiles, frames, /proc readings, reports,
scenarios, server command lines) and ``serve_workers``' refusal to run several
processes without Redis. The tiny end-to-end run is in ``e2e/test_bench.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from calls.tooling.bench import procstat, report, stats, wsframes
from calls.tooling.bench.calls import decoded_size, payload_for
from calls.tooling.simulators import audio


def test_it_takes_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 0.5) == 50
    assert stats.percentile(values, 0.99) == 99
    assert stats.percentile(values, 1.0) == 100
    assert stats.percentile([], 0.5) is None
    assert stats.rtt_figures([3.0, 1.0, 2.0])["rtt_max_ms"] == 3.0


def test_it_frames_and_reads_back_masked_and_fragmented_messages() -> None:
    reader = wsframes.FrameReader()
    big = b"x" * 70_000
    data = wsframes.encode(wsframes.OP_TEXT, b"hello", masked=True)
    data += wsframes.encode(wsframes.OP_TEXT, big, masked=False)
    # A message in two fragments: a non-final text frame, then a continuation.
    data += bytes([0x01, 3]) + b"abc" + bytes([0x80, 3]) + b"def"
    messages = list(reader.feed(data[:7])) + list(reader.feed(data[7:]))
    assert messages == [
        (wsframes.OP_TEXT, b"hello"),
        (wsframes.OP_TEXT, big),
        (wsframes.OP_TEXT, b"abcdef"),
    ]
    assert wsframes.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == (
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # the example of RFC 6455, section 1.3
    )


def test_it_tags_load_generator_frames_so_they_can_be_matched() -> None:
    import binascii

    payload = payload_for(7, 12_345)
    frame = binascii.a2b_base64(payload)
    assert audio.read_tag(frame) == (7, 12_345)
    assert frame[audio.TAG_BYTES :] == audio.speech_frame(12_345)[audio.TAG_BYTES :]
    assert decoded_size(payload) == audio.FRAME_BYTES


def test_it_reads_cpu_time_and_memory_from_proc() -> None:
    assert procstat.cpu_seconds() > 0
    assert procstat.rss_bytes() > 1024 * 1024
    assert procstat.rss_bytes(2**22 + 12345) == 0  # no such process
    before = procstat.Snapshot.take([os.getpid()])
    sum(range(200_000))
    after = procstat.Snapshot.take([os.getpid()])
    assert after.cpu_since(before, [os.getpid()]) >= 0
    assert 0 <= after.machine.idle_fraction_since(before.machine) <= 1


def test_it_aggregates_runs_into_medians_and_sums_losses() -> None:
    runs: list[dict[str, Any]] = [
        {"frames_sent": 10, "frames_lost": 1, "rtt_p99_ms": 5.0, "calls_failed": 0},
        {"frames_sent": 30, "frames_lost": 0, "rtt_p99_ms": 9.0, "calls_failed": 1},
        {"frames_sent": 20, "frames_lost": 2, "rtt_p99_ms": 7.0, "calls_failed": 0},
    ]
    for run in runs:
        run["other_cores"] = {"echo": 0.1}
    result = report.aggregate(
        {"server": "daphne", "workers": 1, "calls": 5, "runs": runs}
    )
    assert result["median"]["frames_sent"] == 20
    assert result["median"]["rtt_p99_ms"] == 7.0
    assert result["spread"]["rtt_p99_ms"] == [5.0, 9.0]
    assert result["median"]["frames_lost"] == 3
    assert result["median"]["calls_failed"] == 1
    assert "(5.0-9.0)" in report.table_row(result)


def test_it_refuses_several_workers_without_redis(settings: Any) -> None:
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="REDIS_URL is required"):
        call_command("serve_workers", "--workers", "2")


def test_it_counts_a_servers_child_processes_as_the_server() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pids = procstat.with_descendants([os.getpid()])
    finally:
        child.kill()
        child.wait()
    assert pids[0] == os.getpid()
    assert child.pid in pids


def test_it_interleaves_the_runs_of_several_scenarios_when_asked() -> None:
    from calls.tooling.bench.runner import Scenario, run_order

    a, b = Scenario("uvicorn", 1, 50), Scenario("granian", 1, 50)
    assert run_order([a, b], 2, interleave=True) == [a, b, a, b]
    assert run_order([a, b], 2, interleave=False) == [a, a, b, b]


def test_it_runs_each_scenario_with_recording_off_and_on_when_asked() -> None:
    from calls.tooling.bench.__main__ import parse_args, scenarios_for

    argv = ["--server", "uvicorn", "--calls", "50", "--compare-workers", "0"]
    both = scenarios_for(parse_args([*argv, "--recording", "both"]), [])
    assert [(s.calls, s.recording) for s in both] == [(50, "off"), (50, "on")]
    assert [s.label for s in both] == ["uvicorn x1 rec off", "uvicorn x1 rec on"]
    (plain,) = scenarios_for(parse_args(argv), [])
    assert (plain.recording, plain.label) == ("", "uvicorn x1")
    off = {"server": "uvicorn", "workers": 1, "calls": 50, "recording": "off"}
    on = {**off, "recording": "on"}
    results = [
        {**off, "median": {"frames_lost": 0}},
        {**on, "median": {"frames_lost": 3}},
    ]
    # The targets are the product's without recording: the "off" row's.
    (lost,) = [t for t in report.targets(results) if t["target"].startswith("frames")]
    assert (lost["value"], report.label(on)) == (0, "uvicorn x1 rec on")


def test_it_has_a_command_line_for_every_server() -> None:
    from calls.tooling.servers.commands import SERVERS, server_command

    for kind in SERVERS:
        command = server_command(kind, "127.0.0.1", 8123)
        assert command[0] == sys.executable
        assert "voiceassistant.asgi:application" in command
        assert "8123" in " ".join(command)
    uvicorn = server_command("uvicorn-wsproto", "127.0.0.1", 8123)
    assert uvicorn[uvicorn.index("--ws") + 1] == "wsproto"
    with pytest.raises(ValueError, match="server must be one of"):
        server_command("gunicorn", "127.0.0.1", 8123)
