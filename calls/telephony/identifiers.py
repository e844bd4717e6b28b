"""Twilio's identifiers: two letters and 32 lower-case hex digits, nothing else.

Every entry point that takes a CallSid, StreamSid or AccountSid from outside checks
it here first and answers anything else with a 400 (or drops the frame), so an
over-long or NUL-bearing value never reaches the database (a 500 on PostgreSQL, a
stored call that can never stream on SQLite). A webhook parameter holding a NUL
is refused the same way. No Django.

Reference: https://www.twilio.com/docs/glossary/what-is-a-sid
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SID = {
    prefix: re.compile(prefix + r"[0-9a-f]{32}", re.ASCII)
    for prefix in ("CA", "MZ", "AC")
}


def is_call_sid(value: object) -> bool:
    """``CA`` + 32 hex digits."""
    return isinstance(value, str) and _SID["CA"].fullmatch(value) is not None


def is_stream_sid(value: object) -> bool:
    """``MZ`` + 32 hex digits."""
    return isinstance(value, str) and _SID["MZ"].fullmatch(value) is not None


def is_account_sid(value: object) -> bool:
    """``AC`` + 32 hex digits."""
    return isinstance(value, str) and _SID["AC"].fullmatch(value) is not None


def webhook_problem(params: Mapping[str, Any]) -> str:
    """Why a Twilio webhook's parameters are unacceptable, or "" when fine.

    Every Twilio voice webhook carries a CallSid (``CA`` + 32 hex digits) and may
    carry an AccountSid (``AC`` + 32 hex digits). No parameter holds a NUL
    character: Twilio never sends one, and PostgreSQL stores no text with it.
    """
    for name in params:
        if "\x00" in name or any("\x00" in str(v) for v in _values(params, name)):
            # repr: the name itself may hold the NUL.
            return f"The parameter {name[:40]!r} contains a NUL character."
    call_sid = params.get("CallSid", "")
    if not call_sid:
        return "CallSid is missing."
    if not is_call_sid(call_sid):
        return "CallSid is not a Twilio CallSid (CA followed by 32 hex digits)."
    account_sid = params.get("AccountSid")
    if account_sid is not None and not is_account_sid(account_sid):
        return "AccountSid is not a Twilio AccountSid (AC followed by 32 hex digits)."
    return ""


def _values(params: Mapping[str, Any], name: str) -> list[Any]:
    """Every value of ``name``: a QueryDict holds a list per key."""
    getlist = getattr(params, "getlist", None)
    if callable(getlist):
        values: list[Any] = getlist(name)
        return values
    return [params[name]]
