"""Twilio Media Streams frames: inbound JSON into dataclasses, outbound frames as text.

Owns the wire format of a bidirectional ``<Connect><Stream>``: ``parse`` turns one
text frame into ``Connected | Start | Media | Mark | Dtmf | Stop`` (or raises
``FrameError``), and ``media``/``mark``/``clear`` build what we send back. The audio
payload is base64 mu-law and passes through untouched in both directions. No Django.

Reference: https://www.twilio.com/docs/voice/media-streams/websocket-messages
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

# Twilio's frames are ~400 bytes; anything this big is not a Media Streams frame.
MAX_FRAME_CHARS = 64 * 1024

# streamSid and callSid are "MZ"/"CA" + 32 hex digits; this is looser on purpose but
# guarantees the value can be pasted into JSON without escaping.
_SID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_DTMF_DIGITS = frozenset("0123456789*#ABCDabcd")
# Standard base64 in whole quanta: checked with one C-level match per frame (no
# decoding on the hot path), so garbage is dropped here instead of sent on.
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class FrameError(ValueError):
    """A frame that is not a well-formed Media Streams message; str() says why."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str = ""
    tracks: tuple[str, ...] = ()
    custom_parameters: dict[str, str] = field(default_factory=dict)
    media_format: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)  # not frozen: 50 a second, and frozen init is slower
class Media:
    stream_sid: str
    payload: str
    # True when the frame held no JSON escape at all, so the payload can be pasted
    # into outbound JSON by concatenation (the hot path's cheap encoder).
    json_safe: bool = False
    timestamp: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    stream_sid: str
    name: str


@dataclass(frozen=True, slots=True)
class Dtmf:
    stream_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class Stop:
    stream_sid: str
    call_sid: str = ""


Frame = Connected | Start | Media | Mark | Dtmf | Stop


def parse(text: str | bytes) -> Frame:
    """One inbound text frame -> its dataclass; ``FrameError`` if malformed."""
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(f"frame too large ({len(text)} chars)")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError("not a JSON object")
    event = data.get("event")
    # Media first: it is 50 frames a second, everything else is rare.
    if event == "media":
        escaped = ("\\" in text) if isinstance(text, str) else (b"\\" in text)
        return _media(data, not escaped)
    parser = _PARSERS.get(event) if isinstance(event, str) else None
    if parser is None:
        raise FrameError(f"unknown event {str(event)[:40]!r}")
    return parser(data)


def is_safe_sid(value: str) -> bool:
    """A Twilio SID we can embed in JSON text as is."""
    return _SID_RE.fullmatch(value) is not None


def media(stream_sid: str, payload: str, *, json_safe: bool = False) -> str:
    """An outbound ``media`` frame. ``stream_sid`` must have passed ``is_safe_sid``.

    ``json_safe`` says the payload needs no escaping (it came out of JSON that had
    none), which lets us concatenate instead of encoding: base64 never does.
    """
    if json_safe:
        return (
            '{"event":"media","streamSid":"'
            + stream_sid
            + '","media":{"payload":"'
            + payload
            + '"}}'
        )
    return _dumps(
        {"event": "media", "streamSid": stream_sid, "media": {"payload": payload}}
    )


def mark(stream_sid: str, name: str) -> str:
    """An outbound ``mark``: Twilio echoes ``name`` once the audio before it played."""
    return _dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear(stream_sid: str) -> str:
    """Drop every buffered outbound frame; Twilio then echoes all pending marks."""
    return _dumps({"event": "clear", "streamSid": stream_sid})


def _dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def _str(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return ""
    raise FrameError(f"missing or invalid {key!r}")


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise FrameError(f"missing or invalid {key!r}")
    return value


def _media(data: dict[str, Any], json_safe: bool) -> Media:
    # The hot path: plain lookups, one try, no helper calls.
    try:
        body = data["media"]
        payload = body["payload"]
        stream_sid = data["streamSid"]
        timestamp = body.get("timestamp", "")
    except (KeyError, TypeError, AttributeError):
        raise FrameError("media without a payload or streamSid") from None
    if type(payload) is not str or not payload or type(stream_sid) is not str:
        raise FrameError("media with an invalid payload or streamSid")
    if len(payload) % 4 or _BASE64_RE.fullmatch(payload) is None:
        raise FrameError("media payload is not base64")
    if type(timestamp) is not str:
        timestamp = ""
    return Media(stream_sid, payload, json_safe, timestamp)


def _connected(data: dict[str, Any]) -> Connected:
    return Connected(
        _str(data, "protocol", required=False), _str(data, "version", required=False)
    )


def _start(data: dict[str, Any]) -> Start:
    body = _obj(data, "start")
    tracks = body.get("tracks")
    params = body.get("customParameters")
    media_format = body.get("mediaFormat")
    return Start(
        stream_sid=_str(body if "streamSid" in body else data, "streamSid"),
        call_sid=_str(body, "callSid"),
        account_sid=_str(body, "accountSid", required=False),
        tracks=tuple(t for t in tracks if isinstance(t, str))
        if isinstance(tracks, list)
        else (),
        custom_parameters={str(k): str(v) for k, v in params.items()}
        if isinstance(params, dict)
        else {},
        media_format=media_format if isinstance(media_format, dict) else {},
    )


def _mark(data: dict[str, Any]) -> Mark:
    return Mark(_str(data, "streamSid"), _str(_obj(data, "mark"), "name"))


def _dtmf(data: dict[str, Any]) -> Dtmf:
    digit = _str(_obj(data, "dtmf"), "digit")
    if len(digit) != 1 or digit not in _DTMF_DIGITS:
        raise FrameError(f"invalid DTMF digit {digit[:8]!r}")
    return Dtmf(_str(data, "streamSid"), digit)


def _stop(data: dict[str, Any]) -> Stop:
    body = data.get("stop")
    call_sid = ""
    if isinstance(body, dict) and isinstance(body.get("callSid"), str):
        call_sid = body["callSid"]
    return Stop(_str(data, "streamSid"), call_sid)


_PARSERS: dict[str, Callable[[dict[str, Any]], Frame]] = {
    "connected": _connected,
    "start": _start,
    "mark": _mark,
    "dtmf": _dtmf,
    "stop": _stop,
}
