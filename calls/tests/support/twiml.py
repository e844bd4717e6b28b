"""Twilio's webhook paths and reading the TwiML our views answer with."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

VOICE = "/twilio/voice/"
STREAM_ENDED = "/twilio/stream-ended/"


def parse(response: Any) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]
