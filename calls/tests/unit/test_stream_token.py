"""Stream tokens: pure tests, no database."""

from __future__ import annotations

import base64
import json
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calls.telephony.stream_token import InvalidToken, StreamClaims, mint, verify

SECRET = "a-secret-key-for-tests"
NOW = 1_800_000_000.0
SID = "CA" + "a" * 32


def make(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "call_sid": SID,
        "secret": SECRET,
        "ttl_seconds": 120,
        "now": NOW,
    }
    arguments.update(overrides)
    return mint(**arguments)


def reason(token: str, *, secret: str = SECRET, now: float = NOW) -> str:
    with pytest.raises(InvalidToken) as caught:
        verify(token, secret=secret, now=now)
    return str(caught.value)


def test_it_round_trips_the_claims() -> None:
    claims = verify(make(), secret=SECRET, now=NOW + 1)

    assert claims == StreamClaims(call_sid=SID, expires_at=NOW + 120)


def test_it_expires() -> None:
    token = make(ttl_seconds=60)

    assert verify(token, secret=SECRET, now=NOW + 59.9).call_sid == SID
    assert reason(token, now=NOW + 60) == "expired"


def test_it_refuses_another_secret() -> None:
    assert reason(make(), secret="another-secret") == "bad signature"
    assert reason(make(), secret="") == "bad signature"


def test_it_refuses_a_tampered_payload() -> None:
    payload, signature = make().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["s"] = "CA" + "b" * 32
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")

    assert reason(forged.decode() + "." + signature) == "bad signature"


def test_it_refuses_a_tampered_signature() -> None:
    payload, signature = make().split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    forged = signature[:middle] + flipped + signature[middle + 1 :]

    assert reason(payload + "." + forged) == "bad signature"
    assert reason(payload + "." + signature[:-4]) == "bad signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-dot",
        "a.b.c",
        ".abc",
        "abc.",
        "ab!c.def",
        "abc.de/f",
        "abc.de+f",
        "abc.def=",
        "é.abc",
        "x" * 600 + ".abc",
    ],
)
def test_it_refuses_malformed_tokens(token: str) -> None:
    assert reason(token) == "malformed"


def test_it_refuses_a_correctly_signed_payload_with_bad_claims() -> None:
    from calls.telephony.stream_token import _b64encode, _sign

    payload = _b64encode(json.dumps({"s": SID, "e": str(NOW + 60)}).encode())
    token = payload + "." + _b64encode(_sign(payload, SECRET))

    assert reason(token) == "malformed"


def test_it_is_safe_in_a_url_path() -> None:
    token = make(call_sid="CA" + "\u00e9/?#%" * 5, ttl_seconds=2**40)

    allowed = set(string.ascii_letters + string.digits + "-_.")
    assert set(token) <= allowed
    assert verify(token, secret=SECRET, now=NOW).call_sid.startswith("CA")


@pytest.mark.parametrize(
    "bad",
    [{"call_sid": ""}, {"secret": ""}, {"ttl_seconds": 0}],
)
def test_it_refuses_to_mint_unusable_tokens(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make(**bad)


def test_it_imports_no_django() -> None:
    code = (
        "import sys, calls.telephony.stream_token; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, check=False)

    assert result.returncode == 0
