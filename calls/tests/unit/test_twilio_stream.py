"""Twilio Media Streams frames: parsing recorded frames, rejecting garbage, building
outbound media/mark/clear."""

from __future__ import annotations

import json

import pytest

from calls.telephony import media_stream as ts
from calls.tests.support.frames import CALL_SID, STREAM_SID, dumps, load, mulaw_b64


def test_it_parses_every_recorded_frame() -> None:
    assert ts.parse(dumps(load("twilio_connected"))) == ts.Connected("Call", "1.0.0")
    start = ts.parse(dumps(load("twilio_start")))
    assert isinstance(start, ts.Start)
    assert (start.stream_sid, start.call_sid) == (STREAM_SID, CALL_SID)
    assert start.tracks == ("inbound",)
    assert start.media_format["encoding"] == "audio/x-mulaw"
    media = ts.parse(dumps(load("twilio_media")))
    assert isinstance(media, ts.Media)
    assert media.payload == load("twilio_media")["media"]["payload"]
    assert (media.timestamp, media.json_safe) == ("40", True)
    assert ts.parse(dumps(load("twilio_mark"))) == ts.Mark(STREAM_SID, "item_A1:300")
    assert ts.parse(dumps(load("twilio_dtmf"))) == ts.Dtmf(STREAM_SID, "5")
    assert ts.parse(dumps(load("twilio_stop"))) == ts.Stop(STREAM_SID, CALL_SID)


def test_it_accepts_bytes_and_custom_parameters() -> None:
    frame = load("twilio_start")
    frame["start"]["customParameters"] = {"token": "abc", "n": 5}
    start = ts.parse(dumps(frame).encode())
    assert isinstance(start, ts.Start)
    assert start.custom_parameters == {"token": "abc", "n": "5"}


def test_it_marks_escaped_media_as_not_json_safe() -> None:
    text = dumps(load("twilio_media")).replace("/", "\\/")
    media = ts.parse(text)
    assert isinstance(media, ts.Media)
    assert media.json_safe is False
    assert "/" in media.payload


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "null",
        '"media"',
        "[]",
        '{"event": "nope"}',
        '{"event": 5}',
        '{"event": "media", "streamSid": "MZ1", "media": {}}',
        '{"event": "media", "streamSid": "MZ1", "media": {"payload": ""}}',
        '{"event": "media", "media": {"payload": "AAAA"}}',
        '{"event": "media", "streamSid": "MZ1", "media": "AAAA"}',
        '{"event": "start", "start": {"streamSid": "MZ1"}}',
        '{"event": "start", "streamSid": "MZ1"}',
        '{"event": "mark", "streamSid": "MZ1", "mark": {}}',
        '{"event": "mark", "streamSid": "MZ1", "mark": {"name": 3}}',
        '{"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "x"}}',
        '{"event": "stop"}',
        '{"event": "media", "streamSid": "MZ1", "media": {"payload": "'
        + "A" * ts.MAX_FRAME_CHARS
        + '"}}',
    ],
)
def test_it_rejects_malformed_frames(text: str) -> None:
    with pytest.raises(ts.FrameError):
        ts.parse(text)


def test_it_builds_media_frames_both_ways_identically() -> None:
    payload = mulaw_b64(160, 0x7F)
    fast = ts.media(STREAM_SID, payload, json_safe=True)
    safe = ts.media(STREAM_SID, payload)
    expected = {
        "event": "media",
        "streamSid": STREAM_SID,
        "media": {"payload": payload},
    }
    assert json.loads(fast) == json.loads(safe) == expected


def test_it_escapes_untrusted_payloads() -> None:
    evil = 'AAAA"},"event":"clear'
    assert json.loads(ts.media(STREAM_SID, evil))["media"]["payload"] == evil


def test_it_builds_marks_and_clears() -> None:
    assert json.loads(ts.mark(STREAM_SID, "item_A1:20")) == {
        "event": "mark",
        "streamSid": STREAM_SID,
        "mark": {"name": "item_A1:20"},
    }
    assert json.loads(ts.clear(STREAM_SID)) == {
        "event": "clear",
        "streamSid": STREAM_SID,
    }


def test_it_accepts_only_json_safe_sids() -> None:
    assert ts.is_safe_sid(STREAM_SID)
    for sid in ("", 'MZ"1', "MZ\\1", "MZ 1", "MZ\n1", "M" * 65, "MZé"):
        assert not ts.is_safe_sid(sid)
