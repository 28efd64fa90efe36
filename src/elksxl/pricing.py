"""Cost estimates per destination: a price table by calling-code prefix, in 1/10000 of a currency.

46elks publishes no machine-readable price list, so prices come from a JSON file the user
keeps (or the packaged example, clearly marked as such). The format::

    {
      "_comment": "anything; keys starting with '_' are ignored",
      "currency": "SEK",
      "unit": "1/10000 SEK per SMS part",
      "example": false,
      "prices": {"46": 3500, "4670": 3500, "47": 6500}
    }

``currency`` is a three-letter code. ``prices`` maps E.164 prefixes (digits, no ``+``) to the
price of one SMS part in 1/10000 of the currency (the unit the 46elks API reports costs in),
as non-negative integers. The longest matching prefix wins. A destination with no matching
prefix has no estimate (None): the table never guesses. ``example`` (default false) marks
figures that are not real prices; ``unit`` is documentation only.

Every estimate is in the table's currency; nothing here converts between currencies. An
estimate is compared with an account's balance only when :func:`comparable` says the two
currencies are the same; otherwise the estimate is unknown in the account's currency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from .errors import ConfigError

__all__ = [
    "EXAMPLE_RESOURCE",
    "PriceTable",
    "comparable",
    "format_amount",
    "load_example",
    "to_currency",
]

EXAMPLE_RESOURCE = "prices-example.json"
"""File name of the packaged example table inside ``elksxl.data``."""

UNITS_PER_CURRENCY = 10_000
_KNOWN_KEYS = {"currency", "unit", "example", "prices"}
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_PREFIX = re.compile(r"[1-9][0-9]{0,14}")


@dataclass(frozen=True)
class PriceTable:
    """Prices per SMS part by calling-code prefix, in 1/10000 of ``currency``."""

    currency: str
    prices: Mapping[str, int]
    example: bool = False
    _longest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A read-only copy: the table is shared by every row of a plan.
        object.__setattr__(self, "prices", MappingProxyType(dict(self.prices)))
        object.__setattr__(self, "_longest", max(map(len, self.prices), default=0))

    @classmethod
    def from_json(cls, text: str, *, source: str = "prices") -> PriceTable:
        """Parse and validate a price table; ``source`` names it in error messages."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            raise ConfigError(f"not valid JSON ({where}): {error.msg}", file=source) from error
        if not isinstance(data, dict):
            raise ConfigError("a price table must be a JSON object", file=source)
        unknown = sorted(k for k in data if k not in _KNOWN_KEYS and not k.startswith("_"))
        if unknown:
            expected = ", ".join(sorted(_KNOWN_KEYS))
            raise ConfigError(f"unknown key {unknown[0]!r} (expected {expected})", file=source)
        if not isinstance(data.get("unit", ""), str):
            raise ConfigError("'unit' must be text, e.g. \"1/10000 SEK per SMS part\"", file=source)
        return cls(
            currency=_currency(data, source),
            prices=_prices(data, source),
            example=_example(data, source),
        )

    def price_per_part(self, e164: str) -> int | None:
        """The price of one part to ``e164`` ("+46701234567"), or None when no prefix matches."""
        digits = e164[1:] if e164.startswith("+") else e164
        if not digits.isdigit() or not digits.isascii():
            raise ValueError(f"not an E.164 number: {e164!r}")
        for length in range(min(len(digits), self._longest), 0, -1):
            price = self.prices.get(digits[:length])
            if price is not None:
                return price
        return None

    def estimate(self, e164: str, parts: int) -> int | None:
        """The price of ``parts`` parts to ``e164``, or None when the destination has no price."""
        if parts < 0:
            raise ValueError(f"parts must not be negative: {parts}")
        price = self.price_per_part(e164)
        return None if price is None else price * parts


def _currency(data: Mapping[str, Any], source: str) -> str:
    currency = data.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ConfigError(
            f"'currency' must be a three-letter code such as \"SEK\", not {currency!r}",
            file=source,
        )
    return currency.upper()


def _prices(data: Mapping[str, Any], source: str) -> dict[str, int]:
    prices = data.get("prices")
    if not isinstance(prices, dict):
        raise ConfigError(
            "'prices' must be an object of calling-code prefix -> price, e.g. {\"46\": 3500}",
            file=source,
        )
    for key, price in prices.items():
        if not _PREFIX.fullmatch(key):
            raise ConfigError(
                f"price key {key!r} must be a calling-code prefix: digits without '+', "
                'not starting with 0 (e.g. "46" or "4670")',
                file=source,
            )
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise ConfigError(
                f"price for {key!r} must be a whole number >= 0 in 1/10000 of the currency "
                f"(0.35 SEK is 3500), not {price!r}",
                file=source,
            )
    return prices


def _example(data: Mapping[str, Any], source: str) -> bool:
    example = data.get("example", False)
    if not isinstance(example, bool):
        raise ConfigError(f"'example' must be true or false, not {example!r}", file=source)
    return example


def load_example() -> PriceTable:
    """The packaged example table (``elksxl/data/prices-example.json``): example figures only."""
    text = resources.files("elksxl.data").joinpath(EXAMPLE_RESOURCE).read_text(encoding="utf-8")
    return PriceTable.from_json(text, source=f"elksxl/data/{EXAMPLE_RESOURCE}")


def to_currency(units: int) -> float:
    """1/10000 units as an amount of the currency: 3500 -> 0.35."""
    return units / UNITS_PER_CURRENCY


def comparable(estimate_currency: str | None, account_currency: str | None) -> bool:
    """True when an estimate in ``estimate_currency`` can be set against a balance in
    ``account_currency``: both known and the same code (case-insensitive). False otherwise,
    so that a SEK estimate is never checked against a EUR balance as if it were EUR.
    """
    if not estimate_currency or not account_currency:
        return False
    return estimate_currency.strip().upper() == account_currency.strip().upper()


def format_amount(units: int | None, currency: str | None) -> str:
    """1/10000 units with their currency for people: ``3500, "SEK"`` -> ``"0.35 SEK"``.

    None (no price known) is ``"unknown"``; a missing currency is left out, never assumed.
    """
    if units is None:
        return "unknown"
    amount = f"{to_currency(units):.2f}"
    return f"{amount} {currency}" if currency else amount
