"""Twilio's HTTP side of a call: signed webhook requests and the TwiML they return.

Requests are signed like Twilio signs them, over the *public* URL the server
believes it has (``public_url``), while actually sent to where it listens
(``base_url``). TwiML is read with ``xml.etree``: ``<Say>`` texts, the
``<Connect action>`` URL, the ``<Stream>`` URL and its ``<Parameter>`` values,
``<Hangup>``. Blocking urllib calls run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


@dataclass
class Twiml:
    says: list[str] = field(default_factory=list)
    stream_url: str = ""
    stream_parameters: dict[str, str] = field(default_factory=dict)
    connect_action: str = ""
    hangup: bool = False


def parse_twiml(document: str) -> Twiml:
    """The parts of a TwiML document a media-stream call acts on."""
    result = Twiml()
    root = ET.fromstring(document)
    for element in root.iter():
        if element.tag == "Say" and element.text:
            result.says.append(element.text.strip())
        elif element.tag == "Connect":
            result.connect_action = element.get("action", "")
        elif element.tag == "Stream":
            result.stream_url = element.get("url", "")
        elif element.tag == "Parameter":
            result.stream_parameters[element.get("name", "")] = element.get("value", "")
        elif element.tag == "Hangup":
            result.hangup = True
    return result


@dataclass
class HttpResult:
    status: int
    body: str


def local_url(public: str, *, public_url: str, base_url: str) -> str:
    """Where to send a request Twilio would send to ``public`` (same path and query)."""
    parts = urllib.parse.urlsplit(public)
    base = urllib.parse.urlsplit(base_url)
    if public.startswith(public_url) or not parts.netloc:
        return urllib.parse.urlunsplit(
            (base.scheme, base.netloc, parts.path, parts.query, "")
        )
    return public


async def post_signed(
    *,
    public: str,
    params: dict[str, str],
    auth_token: str,
    public_url: str,
    base_url: str,
    timeout_s: float = 10.0,
) -> HttpResult:
    """POST ``params`` like Twilio: form-encoded, signed over the public URL."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1 (voiceassistant simulator)",
        "X-Twilio-Signature": sign(auth_token, public, params),
    }
    url = local_url(public, public_url=public_url, base_url=base_url)
    body = urllib.parse.urlencode(params).encode()
    return await asyncio.to_thread(_post, url, body, headers, timeout_s)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(
                response.status, response.read().decode("utf-8", "replace")
            )
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, exc.read().decode("utf-8", "replace"))


def stream_target(stream_url: str, *, base_url: str) -> str:
    """The local ws:// URL for a TwiML stream URL: same path, ``base_url``'s host."""
    parts = urllib.parse.urlsplit(stream_url)
    base = urllib.parse.urlsplit(base_url)
    scheme = "wss" if base.scheme == "https" else "ws"
    return urllib.parse.urlunsplit((scheme, base.netloc, parts.path, parts.query, ""))
