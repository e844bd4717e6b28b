"""Personal data found in transcript text and replaced before it is stored.

``redact(text, kinds)`` returns the text with each detected item replaced by a
placeholder (``[card number]``, ``[ssn]``, ``[email]``, ``[phone number]``,
``[iban]``, ``[ip address]``). The recorder applies it before a transcript row is
written or shown live, so nothing downstream ever sees the original.

Checksums come from python-stdnum (small, pure Python, maintained): Luhn for card
numbers, ISO 13616 mod-97 plus the per-country length for IBANs, and the SSA's
rules for US SSNs (no 000/666/9xx area, 00 group or 0000 serial). Phone numbers
are found with our own patterns rather than ``phonenumbers``: its matcher needs a
region per call and brings megabytes of metadata, while what a speech transcript
holds is a handful of shapes (E.164 with ``+``, NANP ``(555) 123-4567``, trunk-0
national numbers, ten spoken digits). scrubadub and presidio were too heavy.

Speech-to-text writes numbers as digits ("4111 1111 1111 1111") or, now and then,
as words ("four one one one ..."); both are read as one run of digit tokens, and
a span of consecutive tokens in a run can be a match, so "my card is 4111 1111
1111 1111 12 28" still finds the card before the expiry date. Since any 13-19
digits pass Luhn one time in ten, a written card must be grouped as cards are
(4-4-4-4, 4-6-5, or one block) and a spoken one must be a whole read-out.
Bare digit strings without a checksum or a phone shape (order numbers, dates,
times, prices) are left alone: a false positive destroys the transcript's
meaning, and the numbers that matter most (cards, SSNs, IBANs) carry checksums.
US SSNs are redacted only when written 3-2-4; spoken digit by digit they are
indistinguishable from any nine-digit number.

Pure module: no Django.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

from assistants.redaction_names import REDACTION_KINDS

PLACEHOLDERS: dict[str, str] = {
    "card_number": "[card number]",
    "ssn": "[ssn]",
    "email": "[email]",
    "phone_number": "[phone number]",
    "iban": "[iban]",
    "ip_address": "[ip address]",
}
assert set(PLACEHOLDERS) == set(REDACTION_KINDS)

DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}

# -- email: plain, and optionally spelled out ("jane dot doe at example dot com").
# Every repetition is bounded (a local part has at most 64 characters, a domain
# label 63): an unbounded one makes a long "a.a.a..." quadratic to scan.
EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
    r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
SPOKEN_TLDS = "com|net|org|edu|gov|io|co|uk|de|fr|es|it|nl|ca|au|us|info|me"
_GAP = r"\s{1,4}"
SPOKEN_EMAIL_RE = re.compile(
    rf"\b[A-Za-z0-9]{{1,64}}(?:(?:{_GAP}dot{_GAP}|\.)[A-Za-z0-9]{{1,64}}){{0,8}}"
    rf"{_GAP}at{_GAP}[A-Za-z0-9-]{{1,63}}(?:{_GAP}dot{_GAP}[A-Za-z0-9-]{{1,63}}){{0,8}}"
    rf"{_GAP}dot{_GAP}(?:{SPOKEN_TLDS})\b",
    re.IGNORECASE,
)

# -- IBAN: two letters, two check digits, then up to 30 letters/digits in groups
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}\b", re.IGNORECASE)

# -- IP addresses: candidates, checked by ``ipaddress``
# Not part of a longer dotted number ("1.2.3.4.5"): the look-ahead is bounded
# (a dot and a digit), so a long "1.1.1.1..." is scanned once.
IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
IPV6_RE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")

# -- digit runs: digits or digit words, separated by spaces, dashes, dots or ", "
_WORDS = "|".join(DIGIT_WORDS)
TOKEN_RE = re.compile(rf"\(?\d+\)?|\b(?:{_WORDS})\b", re.IGNORECASE)
_TOKEN = rf"(?:\(?\d+\)?|\b(?:{_WORDS})\b)"
_SEP = r"(?:[ \t]*-[ \t]*|,?[ \t]+|\.)"
RUN_RE = re.compile(
    rf"(?:\+[ \t]*|\bplus[ \t]+)?{_TOKEN}(?:{_SEP}{_TOKEN})*", re.IGNORECASE
)


# The longest item the digit-run detectors find (a 19-digit card number).
MAX_DIGITS = 19


@dataclass(frozen=True, slots=True)
class Token:
    digits: str
    start: int
    end: int
    spoken: bool


def redact(text: str, kinds: Iterable[str]) -> str:
    """``text`` with every item of the named kinds replaced by its placeholder.

    Unknown kind names are ignored (the assistants JSON is validated elsewhere).
    """
    wanted = set(kinds) & set(PLACEHOLDERS)
    if not wanted or not text:
        return text
    # Emails, IBANs and IP addresses first: they contain digits the digit-run
    # detectors would otherwise take apart.
    if "email" in wanted:
        text = EMAIL_RE.sub(PLACEHOLDERS["email"], text)
        text = SPOKEN_EMAIL_RE.sub(PLACEHOLDERS["email"], text)
    if "iban" in wanted:
        text = IBAN_RE.sub(_iban_replacement, text)
    if "ip_address" in wanted:
        text = IPV4_RE.sub(_ip_replacement, text)
        text = IPV6_RE.sub(_ip_replacement, text)
    run_kinds = [k for k in ("card_number", "ssn", "phone_number") if k in wanted]
    if run_kinds:
        text = RUN_RE.sub(lambda m: _redact_run(m.group(0), run_kinds), text)
    return text


def _iban_replacement(match: re.Match[str]) -> str:
    # The pattern is greedy: a valid IBAN may be followed by more letters or
    # digits ("... 0130 00 thanks"), so try shorter ends, longest first.
    found = match.group(0)
    for end in range(len(found), 14, -1):
        candidate = found[:end]
        if candidate.endswith(" "):
            continue
        if stdnum_iban.is_valid(candidate):
            return PLACEHOLDERS["iban"] + found[end:]
    return found


def _ip_replacement(match: re.Match[str]) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return PLACEHOLDERS["ip_address"]


def _tokens(run: str) -> list[Token]:
    tokens = []
    for m in TOKEN_RE.finditer(run):
        word = m.group(0).lower()
        spoken = word in DIGIT_WORDS
        digits = DIGIT_WORDS[word] if spoken else word.strip("()")
        tokens.append(Token(digits, m.start(), m.end(), spoken))
    return tokens


def _redact_run(run: str, kinds: list[str]) -> str:
    tokens = _tokens(run)
    if sum(len(t.digits) for t in tokens) < 7:
        return run
    plus = run.lstrip().startswith("+") or run.lower().startswith("plus")
    out: list[str] = []
    cursor = 0
    i = 0
    while i < len(tokens):
        found = _longest_match(run, tokens, i, kinds, plus=plus and i == 0)
        if found is None:
            i += 1
            continue
        kind, j = found
        # A leading "+"/"plus" belongs to the phone number it starts.
        start = 0 if (i == 0 and kind == "phone_number") else tokens[i].start
        out.append(run[cursor:start])
        out.append(PLACEHOLDERS[kind])
        cursor = tokens[j - 1].end
        i = j
    out.append(run[cursor:])
    return "".join(out)


@dataclass
class Span:
    """Tokens ``i`` to ``j`` (exclusive) of a run: one candidate item."""

    run: str
    tokens: list[Token]
    i: int
    j: int
    plus: bool  # the run starts with "+" or "plus" and so does this span

    @cached_property
    def parts(self) -> list[Token]:
        return self.tokens[self.i : self.j]

    @cached_property
    def digits(self) -> str:
        return "".join(t.digits for t in self.parts)

    @cached_property
    def groups(self) -> list[int]:
        return [len(t.digits) for t in self.parts]

    @cached_property
    def spoken(self) -> bool:
        """Spoken digit by digit, and all of such a read-out: any part of a long
        one would pass a checksum one time in ten."""
        tokens, i, j = self.tokens, self.i, self.j
        return (
            all(t.spoken for t in self.parts)
            and (i == 0 or not tokens[i - 1].spoken)
            and (j == len(tokens) or not tokens[j].spoken)
        )

    @cached_property
    def written(self) -> bool:
        return not any(t.spoken for t in self.parts)


def _longest_match(
    run: str, tokens: list[Token], i: int, kinds: list[str], *, plus: bool
) -> tuple[str, int] | None:
    """The first kind (in ``kinds`` order) matching the longest span from ``i``.

    Only spans that some detector could accept are built, so the work per token
    is bounded and a long run (thousands of read-out digits) stays linear: a span
    starting with "+" is tried whole (it can only start a run); a spoken span
    only as a whole read-out; a written one of at most ``MAX_WRITTEN_GROUPS``
    groups, all written.
    """
    for j in _candidate_ends(tokens, i, plus=plus):
        span = Span(run, tokens, i, j, plus)
        if len(span.digits) > MAX_DIGITS:
            continue
        for kind in kinds:
            if DETECTORS[kind](span):
                return kind, j
    return None


# The most groups a written item has (a card written 4-4-4-4-3), and the fewest
# digits any detector accepts (an E.164 number with eight).
MAX_WRITTEN_GROUPS = 5
MIN_DIGITS = 8


def _candidate_ends(tokens: list[Token], i: int, *, plus: bool) -> list[int]:
    """The span ends worth trying from token ``i``, longest first."""
    if plus:
        # Nothing detected is longer than 19 digits, so neither is a span.
        return list(range(min(len(tokens), i + MAX_DIGITS), i, -1))
    if tokens[i].spoken:
        if i > 0 and tokens[i - 1].spoken:
            return []  # inside a read-out: only a whole one can match
        end = i
        while end < len(tokens) and tokens[end].spoken and end - i <= MAX_DIGITS:
            end += 1
        return [end] if MIN_DIGITS <= end - i <= MAX_DIGITS else []
    ends: list[int] = []
    digits = 0
    for end in range(i, min(len(tokens), i + MAX_WRITTEN_GROUPS)):
        token = tokens[end]
        digits += len(token.digits)
        if token.spoken or digits > MAX_DIGITS:
            break
        if digits >= MIN_DIGITS:
            ends.append(end + 1)
    ends.reverse()
    return ends


# How card numbers are grouped when written: 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4.
CARD_GROUPINGS = ([4, 6, 5], [4, 6, 4])


def _is_card(span: Span) -> bool:
    digits = span.digits
    if not (13 <= len(digits) <= 19) or digits[0] == "0" or not luhn.is_valid(digits):
        return False
    if span.spoken:
        return True
    groups = span.groups
    # Only card-like groupings: a span of unrelated numbers ("12 15 18 22 30 41
    # 55") passes Luhn one time in ten.
    return span.written and (
        len(groups) == 1
        or groups in CARD_GROUPINGS
        or (all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4)
    )


def _is_ssn(span: Span) -> bool:
    # Written 123-45-6789 or 123 45 6789 only: nine bare digits are as likely an
    # order or account number.
    if span.groups != [3, 2, 4] or not span.written:
        return False
    parts = span.parts
    separators = {
        span.run[a.end : b.start].strip() for a, b in itertools.pairwise(parts)
    }
    if not separators <= {"-", ""}:
        return False
    return bool(stdnum_ssn.is_valid(span.digits))


def _is_phone(span: Span) -> bool:
    digits, groups = span.digits, span.groups
    if span.plus:
        # E.164: a country code and up to 15 digits in all.
        return 8 <= len(digits) <= 15 and digits[0] != "0"
    if span.spoken:
        # Spoken digit by digit: a ten-digit number, or 1 + ten (NANP).
        return len(digits) == 10 or (len(digits) == 11 and digits[0] in "10")
    if not span.written:
        return False
    if groups == [3, 3, 4] or (groups == [1, 3, 3, 4] and digits[0] == "1"):
        return True
    # National numbers written with a trunk 0: "020 7946 0958", "06 12 34 56 78".
    return (
        len(groups) >= 2
        and min(groups) >= 2
        and digits[0] == "0"
        and 10 <= len(digits) <= 11
    )


DETECTORS: dict[str, Callable[[Span], bool]] = {
    "card_number": _is_card,
    "ssn": _is_ssn,
    "phone_number": _is_phone,
}
