"""Twilio's HTTP side of a call: signed webhook requests and the TwiML they return.

Requests are signed like Twilio signs them, over the *public* URL the server
believes it has (``public_url``), while actually sent to where it listens
(``base_url``). TwiML is read with ``xml.etree``: ``<Say>`` texts, the
``<Connect action>`` URL, the ``<Stream>`` URL and its ``<Parameter>`` values,
``<Hangup>``; ``twiml_verbs`` lists what Twilio runs next after a stream ends.
Blocking urllib calls run in a thread.
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
    return str(RequestValidator(auth_token).compute_signature(url, params))


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


# One TwiML verb as Twilio would run it: ("say", text), ("dial", number, callerId),
# ("hangup",), ("play", url), ("digits", keys), ("pause", seconds), ("redirect", url),
# ("connect", stream url), ("reject",); other verbs as (tag.lower(),).
Verb = tuple[str, ...]
# Verbs after which Twilio runs nothing more of the document.
TERMINAL_VERBS = frozenset({"hangup", "reject", "redirect", "connect"})
# <Dial> nouns and how their target is written in a ("dial", ...) verb.
DIAL_NOUNS = {
    "Number": "",
    "Client": "client:",
    "Sip": "sip:",
    "Conference": "conference:",
    "Queue": "queue:",
}


def twiml_verbs(document: str) -> list[Verb]:
    """The verbs of a TwiML answer that Twilio would run, in order.

    Stops after the first verb that ends the document's execution: ``<Hangup>``,
    ``<Reject>``, ``<Redirect>``, ``<Connect>`` and a ``<Dial action>`` (Twilio
    requests the action instead of running what follows). Raises ``ET.ParseError``
    for a document that is not XML.
    """
    verbs: list[Verb] = []
    for element in ET.fromstring(document):
        verb = _verb(element)
        verbs.append(verb)
        if verb[0] in TERMINAL_VERBS or (verb[0] == "dial" and element.get("action")):
            break
    return verbs


def _verb(element: ET.Element) -> Verb:
    text = "".join(element.itertext()).strip()
    if element.tag == "Say":
        return ("say", text)
    if element.tag == "Dial":
        return ("dial", _dial_target(element), element.get("callerId", ""))
    if element.tag == "Play":
        # <Play digits="..."> sends DTMF to the far end instead of audio.
        digits = element.get("digits")
        return ("digits", digits) if digits else ("play", text)
    if element.tag == "Pause":
        return ("pause", element.get("length", "1"))
    if element.tag == "Redirect":
        return ("redirect", text)
    if element.tag == "Connect":
        stream = element.find("Stream")
        return ("connect", stream.get("url", "") if stream is not None else "")
    return (element.tag.lower(),)


def _dial_target(dial: ET.Element) -> str:
    """A ``<Dial>``'s number, or its nouns comma-separated (all ring at once)."""
    targets = [
        DIAL_NOUNS[noun.tag] + "".join(noun.itertext()).strip()
        for noun in dial
        if noun.tag in DIAL_NOUNS
    ]
    return ",".join(targets) or (dial.text or "").strip()


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
