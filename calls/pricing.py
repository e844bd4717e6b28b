"""Estimated cost of a call's usage, from prices passed in and the engine's spec.

Pure: no Django. Callers pass the prices (``Prices.from_settings(settings)`` reads
the ``PRICE_*_PER_M`` values, USD per million tokens, and each engine's price per
minute of session, by the setting name its spec gives) and a mapping with the
usage columns of ``calls.models.Call`` (``calls.vocabulary.usage.USAGE_FIELDS``:
the token counters and ``session_seconds``), plus the call's engine: its spec's
``billing`` says whether it is billed per token or per minute of session, and
which kinds of token it bills.

OpenAI counts cached tokens inside ``input_token_details.text_tokens`` and
``audio_tokens``, so the uncached part of each is the total minus its cached part;
pricing both at full rate would overstate the bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calls.engines import registry
from calls.engines.spec import Billing
from calls.vocabulary.usage import SESSION_SECONDS_FIELD, TOKEN_FIELDS

# (line key, label) in display order; the price attribute is the key.
_LINES = (
    ("input_audio", "Audio in"),
    ("input_text", "Text in"),
    ("cached_audio", "Cached audio in"),
    ("cached_text", "Cached text in"),
    ("output_audio", "Audio out"),
    ("output_text", "Text out"),
)
_TOKEN_PRICES = tuple(key for key, _ in _LINES)
# An engine the registry does not know (an old row): priced per token.
_BY_TOKENS = Billing()


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, one figure per kind of token, and USD per minute
    of session for the engines billed by session time (by engine name)."""

    input_text: float = 0.0
    input_audio: float = 0.0
    cached_text: float = 0.0
    cached_audio: float = 0.0
    output_text: float = 0.0
    output_audio: float = 0.0
    per_minute: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> Prices:
        """Read ``PRICE_<KIND>_PER_M`` attributes and each session-billed
        engine's per-minute setting (missing ones count as 0)."""
        values = {
            name: float(getattr(settings, f"PRICE_{name.upper()}_PER_M", 0) or 0)
            for name in _TOKEN_PRICES
        }
        per_minute = {
            spec.name: price
            for spec in registry.specs()
            if spec.billing.per_minute_setting
            and (
                price := float(
                    getattr(settings, spec.billing.per_minute_setting, 0) or 0
                )
            )
        }
        return cls(**values, per_minute=per_minute)

    def session_per_minute(self, engine: str) -> float:
        return float(self.per_minute.get(engine, 0.0))


@dataclass(frozen=True)
class CostLine:
    key: str
    label: str
    # Tokens, or seconds on the ``session`` line (priced per minute there).
    tokens: int
    price_per_m: float
    usd: float


@dataclass(frozen=True)
class Cost:
    lines: tuple[CostLine, ...]
    total_usd: float

    @property
    def by_time(self) -> bool:
        """Whether the engine bills session time (a ``session`` line)."""
        return any(line.key == "session" for line in self.lines)

    @property
    def billed_lines(self) -> tuple[CostLine, ...]:
        """The lines with tokens on them (what is worth showing)."""
        return tuple(line for line in self.lines if line.tokens)


def token_split(usage: Mapping[str, Any]) -> dict[str, int]:
    """Billable tokens per kind, with cached tokens taken out of the full-rate ones."""
    value = {key: int(usage.get(key) or 0) for key in TOKEN_FIELDS}
    cached_text = value["cached_text_tokens"]
    cached_audio = value["cached_audio_tokens"]
    input_text = value["input_text_tokens"]
    input_audio = value["input_audio_tokens"]
    output_text = value["output_text_tokens"]
    output_audio = value["output_audio_tokens"]
    if not (input_text or input_audio) and value["input_tokens"]:
        # No breakdown reported: treat the input as audio, the dearer kind, so the
        # estimate errs high rather than low.
        input_audio = value["input_tokens"]
    if not (output_text or output_audio) and value["output_tokens"]:
        output_audio = value["output_tokens"]
    return {
        "input_audio": max(0, input_audio - cached_audio),
        "input_text": max(0, input_text - cached_text),
        "cached_audio": cached_audio,
        "cached_text": cached_text,
        "output_audio": output_audio,
        "output_text": output_text,
    }


def estimate(usage: Mapping[str, Any], prices: Prices, *, engine: str = "") -> Cost:
    """The estimated cost of ``usage`` (usage columns) at ``prices``.

    An engine billed by session time (its spec's ``billing``) has its
    ``session_seconds`` priced per minute (line ``session``) and only the token
    kinds its spec bills; the others are priced per token only (they report no
    session seconds).
    """
    spec = registry.find(engine)
    billing = spec.billing if spec else _BY_TOKENS
    split = token_split(usage)
    lines = []
    if billing.unit == "session_seconds":
        seconds = live_seconds(usage)
        price = prices.session_per_minute(engine)
        lines.append(
            CostLine(
                "session", "Session time (s)", seconds, price, seconds / 60 * price
            )
        )
    for key, label in _LINES:
        if key not in billing.token_kinds:
            continue
        price = float(getattr(prices, key))
        tokens = split[key]
        lines.append(CostLine(key, label, tokens, price, tokens * price / 1_000_000))
    return Cost(lines=tuple(lines), total_usd=sum(line.usd for line in lines))


def live_seconds(usage: Mapping[str, Any]) -> int:
    """The billed session seconds of a call's usage (engines billed by time)."""
    return int(usage.get(SESSION_SECONDS_FIELD) or 0)


def format_usd(amount: float) -> str:
    """$0.0123 for small sums (calls cost cents), $12.35 for larger ones."""
    if amount < 1:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def format_line_price(line: CostLine) -> str:
    """A line's price in its unit: per minute for session time, else per M tokens."""
    if line.key == "session":
        return f"${line.price_per_m:g}/min"
    return format_price(line.price_per_m)


def format_price(price_per_m: float) -> str:
    """32.0 -> "$32/M", 0.4 -> "$0.4/M"."""
    return f"${price_per_m:g}/M"
