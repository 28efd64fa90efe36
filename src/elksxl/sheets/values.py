"""What a calamine cell value becomes in a Table: see :mod:`elksxl.sheets.reader` for the rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from ..table import Cell

__all__ = ["Converter", "header_text"]


class Converter:
    """Turns calamine rows into tuples of Cells, sharing equal strings and dates.

    Names, towns and message texts repeat across thousands of rows; one shared object per
    distinct value saves about a third of the memory of a large table.
    """

    def __init__(self) -> None:
        self._shared: dict[Any, Any] = {}

    def row(self, raw: Sequence[Any]) -> tuple[Cell, ...]:
        share = self._shared.setdefault
        # One comprehension, no call per cell in the common cases: this loop runs for every
        # cell of the sheet.
        cells: list[Any] = [
            (
                None
                if v == ""
                else (share(v, v) if v.__class__ in _SHARED else v)
                if v.__class__ in _KNOWN
                else _odd(v)
            )
            for v in raw
        ]
        return tuple(cells)


# Exact classes: True == 1 == 1.0 as dict keys, so numbers must never be shared.
_SHARED = frozenset({str, date})
_KNOWN = frozenset({str, date, float, int, bool, datetime, time})


def _odd(value: object) -> Cell:
    if isinstance(value, timedelta):
        if timedelta(0) <= value < timedelta(days=1):
            return (datetime.min + value).time()
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(value, str | int | float | bool | datetime | date | time):
        return value  # a subclass of a plain type
    return str(value)


def header_text(value: object) -> str:
    """The header text of a cell value: stripped text; whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        value = value.date()  # openpyxl reads a date cell as midnight, calamine as a date
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
