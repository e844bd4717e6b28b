"""Estimated cost of a call's token usage, from prices passed in.

Pure: no Django. Callers pass the prices (``Prices.from_settings(settings)`` reads the
``PRICE_*_PER_M`` values, USD per million tokens) and a mapping with the token
columns of ``calls.models.Call`` (``calls.usage.USAGE_FIELDS``).

OpenAI counts cached tokens inside ``input_token_details.text_tokens`` and
``audio_tokens``, so the uncached part of each is the total minus its cached part;
pricing both at full rate would overstate the bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calls.usage import USAGE_FIELDS

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

    @classmethod
    def from_settings(cls, settings: Any) -> Prices:
        """Read ``PRICE_<KIND>_PER_M`` attributes (missing ones count as 0)."""
        return cls(
            **{
                name: float(getattr(settings, f"PRICE_{name.upper()}_PER_M", 0) or 0)
                for name in cls.__dataclass_fields__
            }
        )


@dataclass(frozen=True)
class CostLine:
    key: str
    label: str
    tokens: int
    price_per_m: float
    usd: float


@dataclass(frozen=True)
class Cost:
    lines: tuple[CostLine, ...]
    total_usd: float

    @property
    def billed_lines(self) -> tuple[CostLine, ...]:
        """The lines with tokens on them (what is worth showing)."""
        return tuple(line for line in self.lines if line.tokens)


def token_split(usage: Mapping[str, Any]) -> dict[str, int]:
    """Billable tokens per kind, with cached tokens taken out of the full-rate ones."""
    value = {key: int(usage.get(key) or 0) for key in USAGE_FIELDS}
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


def estimate(usage: Mapping[str, Any], prices: Prices) -> Cost:
    """The estimated cost of ``usage`` (token columns) at ``prices``."""
    split = token_split(usage)
    lines = []
    for key, label, price_name in _LINES:
        price = float(getattr(prices, price_name))
        tokens = split[key]
        lines.append(CostLine(key, label, tokens, price, tokens * price / 1_000_000))
    return Cost(lines=tuple(lines), total_usd=sum(line.usd for line in lines))


def format_usd(amount: float) -> str:
    """$0.0123 for small sums (calls cost cents), $12.35 for larger ones."""
    if amount < 1:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def format_price(price_per_m: float) -> str:
    """32.0 -> "$32/M", 0.4 -> "$0.4/M"."""
    return f"${price_per_m:g}/M"
