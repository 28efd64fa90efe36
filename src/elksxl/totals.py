"""What a plan adds up to, told before anything is sent: counts, cost per country, groups.

Pure: no I/O. :class:`Tally` takes plan items one at a time, so a plan streamed row by row is
summed without holding it; it keeps only rows worth naming (problems, rows without a price,
shared numbers, the first UCS-2 rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .items import AlreadySent, Duplicate, Message, PlanItem, Problem
from .phone import calling_code
from .pricing import to_currency

__all__ = [
    "UCS2_ROWS_SHOWN",
    "CountryCost",
    "ProblemGroup",
    "SharedNumber",
    "Tally",
    "estimated_duration",
]

UCS2_ROWS_SHOWN = 10
"""How many UCS-2 rows a streamed tally names (all of them are counted)."""


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """Rows that will not be sent for the same reason."""

    reason: str
    rows: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "rows": list(self.rows)}


@dataclass(frozen=True, slots=True)
class SharedNumber:
    """One number that gets several different messages, and the rows they come from."""

    to: str
    rows: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.to, "rows": list(self.rows)}


@dataclass(frozen=True, slots=True)
class CountryCost:
    """The messages to one destination country and their cost in the price table's currency.

    ``country`` is a region code ("SE") or "+" and a calling code for numbers of no country.
    ``cost`` is None when any of its messages has no price (``unpriced_rows``): never a guess.
    """

    country: str
    messages: int
    parts: int
    known_cost: int  # 1/10000 of the currency, over the priced messages
    unpriced_rows: tuple[int, ...] = ()

    @property
    def calling_code(self) -> int:
        return calling_code(self.country) if self.country else 0

    @property
    def cost(self) -> int | None:
        return None if self.unpriced_rows else self.known_cost

    def to_dict(self, currency: str | None) -> dict[str, Any]:
        return {
            "country": self.country,
            "calling_code": self.calling_code,
            "messages": self.messages,
            "parts": self.parts,
            "estimated_cost": None if self.cost is None else to_currency(self.cost),
            "currency": currency,
            "unpriced_rows": list(self.unpriced_rows),
        }


def estimated_duration(messages: int, rate_per_minute: float) -> float:
    """Seconds to send ``messages`` at ``rate_per_minute``; 0 when the rate is 0 (no limit).

    The pacing is the send's own limit, so this is a lower bound: 46elks' answers may be slower.
    """
    if rate_per_minute < 0:
        raise ValueError(f"rate_per_minute must not be negative: {rate_per_minute}")
    if messages <= 0 or rate_per_minute == 0:
        return 0.0
    return messages * 60.0 / rate_per_minute


@dataclass
class _Country:
    messages: int = 0
    parts: int = 0
    known_cost: int = 0
    unpriced_rows: list[int] = field(default_factory=list)


class Tally:
    """Running totals over plan items, for outputs that stream a plan instead of holding it.

    ``phone_column`` is the label of the column(s) read; ``phone_columns`` and
    ``other_phone_columns`` name them one by one (see ``recipients.PhoneColumns``).
    """

    def __init__(
        self,
        phone_column: str,
        currency: str | None,
        *,
        phone_columns: tuple[str, ...] | None = None,
        other_phone_columns: tuple[str, ...] = (),
    ) -> None:
        self.phone_column = phone_column
        self.phone_columns = (phone_column,) if phone_columns is None else phone_columns
        self.other_phone_columns = other_phone_columns
        self.currency = currency
        self.rows = self.recipients = self.parts = self.already_sent = self.duplicates = 0
        self.unpriced = self.known_cost = self.ucs2 = 0
        self.ucs2_rows: list[int] = []
        self.unpriced_rows: list[int] = []
        self._problems: dict[str, list[int]] = {}
        self._countries: dict[str, _Country] = {}
        self._shared: dict[str, list[int]] = {}

    def add(self, item: PlanItem) -> None:
        self.rows += 1
        if isinstance(item, Message):
            self._add_message(item)
        elif isinstance(item, Problem):
            self._problems.setdefault(item.group, []).append(item.row)
        elif isinstance(item, Duplicate):
            self.duplicates += 1
        elif isinstance(item, AlreadySent):
            self.already_sent += 1

    def _add_message(self, item: Message) -> None:
        self.recipients += 1
        self.parts += item.parts
        country = self._countries.setdefault(item.country, _Country())
        country.messages += 1
        country.parts += item.parts
        if item.cost is None:
            self.unpriced += 1
            self.unpriced_rows.append(item.row)
            country.unpriced_rows.append(item.row)
        else:
            self.known_cost += item.cost
            country.known_cost += item.cost
        if item.encoding == "ucs2":
            self.ucs2 += 1
            if len(self.ucs2_rows) < UCS2_ROWS_SHOWN:
                self.ucs2_rows.append(item.row)
        if item.shares_number_with is not None:
            self._shared.setdefault(item.to, [item.shares_number_with]).append(item.row)

    def problem_groups(self) -> tuple[ProblemGroup, ...]:
        """Problems by reason, in the order each reason first appears."""
        return tuple(ProblemGroup(reason, tuple(rows)) for reason, rows in self._problems.items())

    def countries(self) -> tuple[CountryCost, ...]:
        """Messages and cost per destination, most messages first."""
        costs = [
            CountryCost(name, c.messages, c.parts, c.known_cost, tuple(c.unpriced_rows))
            for name, c in self._countries.items()
        ]
        return tuple(sorted(costs, key=lambda c: (-c.messages, c.country)))

    def shared_numbers(self) -> tuple[SharedNumber, ...]:
        """Numbers that get different texts, with their rows."""
        return tuple(SharedNumber(to, tuple(rows)) for to, rows in self._shared.items())

    def totals(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "recipients": self.recipients,
            "parts": self.parts,
            "already_sent": self.already_sent,
            "estimated_cost": None if self.unpriced else to_currency(self.known_cost),
            "currency": self.currency,
            "unpriced": self.unpriced,
            "phone_column": self.phone_column,
            "phone_columns": list(self.phone_columns),
            "other_phone_columns": list(self.other_phone_columns),
            "duplicate_count": self.duplicates,
            "problem_groups": [g.to_dict() for g in self.problem_groups()],
            "ucs2_messages": self.ucs2,
            "ucs2_rows": self.ucs2_rows,
            "unpriced_rows": self.unpriced_rows,
            "countries": [c.to_dict(self.currency) for c in self.countries()],
            "shared_numbers": [s.to_dict() for s in self.shared_numbers()],
        }
