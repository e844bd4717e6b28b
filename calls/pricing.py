"""Estimated cost of a call's token usage, from prices passed in.

Pure: no Django. Callers pass the prices (``Prices.from_settings(settings)`` reads the
``PRICE_*_PER_M`` values, USD per million tokens, and ``PRICE_LIVE_PER_MINUTE``)
and a mapping with the usage columns of ``calls.models.Call``
(``calls.usage.USAGE_FIELDS``: the token counters and ``session_seconds``), plus
the call's engine: GPT-Live is billed per minute of session, the others per token.

OpenAI counts cached tokens inside ``input_token_details.text_tokens`` and
``audio_tokens``, so the uncached part of each is the total minus its cached part;
pricing both at full rate would overstate the bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calls.usage import SESSION_SECONDS_FIELD, TOKEN_FIELDS

# The engine billed by the second (``assistants.persona.OPENAI_LIVE``).
LIVE_ENGINE = "openai-live"

# (line key, label, price attribute) in display order.
_LINES = (
    ("input_audio", "Audio in", "input_audio"),
    ("input_text", "Text in", "input_text"),
    ("cached_audio", "Cached audio in", "cached_audio"),
    ("cached_text", "Cached text in", "cached_text"),
    ("output_audio", "Audio out", "output_audio"),
    ("output_text", "Text out", "output_text"),
)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, one figure per kind of token."""

    input_text: float = 0.0
    input_audio: float = 0.0
    cached_text: float = 0.0
    cached_audio: float = 0.0
    output_text: float = 0.0
    output_audio: float = 0.0
    # GPT-Live: USD per minute of session (``PRICE_LIVE_PER_MINUTE``).
    live_per_minute: float = 0.0

    @classmethod
    def from_settings(cls, settings: Any) -> Prices:
        """Read ``PRICE_<KIND>_PER_M`` attributes and ``PRICE_LIVE_PER_MINUTE``
        (missing ones count as 0)."""
        values = {
            name: float(getattr(settings, f"PRICE_{name.upper()}_PER_M", 0) or 0)
            for name in cls.__dataclass_fields__
            if name != "live_per_minute"
        }
        live = float(getattr(settings, "PRICE_LIVE_PER_MINUTE", 0) or 0)
        return cls(**values, live_per_minute=live)


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

    A GPT-Live call (``engine``) is billed by the second: its ``session_seconds``
    are priced per minute (line ``session``) and its backend's text tokens per
    token; it has no audio tokens. Other engines are priced per token only (they
    report no session seconds).
    """
    if engine == LIVE_ENGINE:
        return _estimate_live(usage, prices)
    split = token_split(usage)
    lines = []
    for key, label, price_name in _LINES:
        price = float(getattr(prices, price_name))
        tokens = split[key]
        lines.append(CostLine(key, label, tokens, price, tokens * price / 1_000_000))
    return Cost(lines=tuple(lines), total_usd=sum(line.usd for line in lines))


def live_seconds(usage: Mapping[str, Any]) -> int:
    """The billed session seconds of a GPT-Live call's usage."""
    return int(usage.get(SESSION_SECONDS_FIELD) or 0)


def _estimate_live(usage: Mapping[str, Any], prices: Prices) -> Cost:
    seconds = live_seconds(usage)
    session_usd = seconds / 60 * prices.live_per_minute
    # GPT-Live reports no audio tokens: price only the backend's text tokens.
    text = estimate(usage, prices)
    session = CostLine(
        "session", "Session time (s)", seconds, prices.live_per_minute, session_usd
    )
    lines = (session, *(line for line in text.lines if line.key.endswith("text")))
    return Cost(lines=lines, total_usd=sum(line.usd for line in lines))


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
