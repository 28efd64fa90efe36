"""What a plan says about one row: a message to send, a problem, a duplicate, or already sent.

Pure data with its JSON form; :mod:`elksxl.plan` makes them, :mod:`elksxl.totals` adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .encoding import Encoding
from .pricing import to_currency
from .table import Cell

__all__ = ["AlreadySent", "Duplicate", "Message", "PlanItem", "Problem"]


@dataclass(frozen=True, slots=True)
class Message:
    """One SMS that would be sent.

    ``country`` is where it goes ("SE"; "+882" for a number of no country; "" when unknown).
    ``shares_number_with`` is the first earlier row that sends another text to the same number
    (two children on one parent's phone), else None.
    """

    row: int
    to: str
    text: str
    encoding: Encoding
    length: int
    parts: int
    ucs2_chars: tuple[str, ...]
    cost: int | None  # 1/10000 of the price table's currency; None when no price is known
    country: str = ""
    shares_number_with: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "to": self.to,
            "text": self.text,
            "encoding": self.encoding,
            "length": self.length,
            "parts": self.parts,
            "ucs2_chars": list(self.ucs2_chars),
            "estimated_cost": None if self.cost is None else to_currency(self.cost),
            "country": self.country,
            "shares_number_with": self.shares_number_with,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that will not be sent, and why, in words a person understands.

    ``summary`` is the reason without this row's value, shared by every row that fails the
    same way ("not a valid number for SE"); "" when ``reason`` holds no value of its own.
    """

    row: int
    column: str
    value: Cell
    reason: str
    summary: str = ""

    @property
    def group(self) -> str:
        """The reason rows are grouped by in a plan's summary."""
        return self.summary or self.reason

    def to_dict(self) -> dict[str, Any]:
        value = self.value if isinstance(self.value, str | int | float | None) else str(self.value)
        return {"row": self.row, "column": self.column, "value": value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row that would repeat an earlier row's message: the same number and the same text.

    ``same_text`` is False when only the number repeats and one message per number was asked.
    """

    row: int
    to: str
    first_row: int
    same_text: bool = True

    @property
    def reason(self) -> str:
        if self.same_text:
            return f"duplicate of row {self.first_row}: the same number and the same text"
        return f"duplicate of row {self.first_row}: the same number (one message per number)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "to": self.to,
            "first_row": self.first_row,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class AlreadySent:
    """A row whose ``SMS status`` already says sent or delivered: skipped."""

    row: int


PlanItem = Message | Problem | Duplicate | AlreadySent
