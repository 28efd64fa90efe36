"""What every surface hands the core and gets back: a Table of rows in, RowResults out to a sink.

A :class:`Table` is a header and rows with their Excel row numbers; a :class:`ResultSink` is
where a surface puts each row's :class:`RowResult` (the .xlsx and .csv writers, the add-in's
action builder, the xlwings range writer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from typing import Any, Final, Protocol

__all__ = [
    "CAMPAIGN_NAME",
    "CAMPAIGN_PROPERTY",
    "RESULT_COLUMNS",
    "STATUS_COLUMN",
    "Cell",
    "ResultSink",
    "Row",
    "RowResult",
    "Table",
]

Cell = str | int | float | bool | datetime | date | time | None
"""A cell value as the sheet adapters deliver it (cached values, never formulas)."""

RESULT_COLUMNS: tuple[str, ...] = (
    "SMS status",
    "SMS id",
    "SMS parts",
    "SMS cost",
    "SMS error",
    "SMS sent at",
    "SMS delivered at",
)
STATUS_COLUMN = RESULT_COLUMNS[0]

CAMPAIGN_PROPERTY: Final = "elksxl campaign"
"""The custom document property that holds a workbook's campaign id."""
CAMPAIGN_NAME: Final = "elksxl_campaign"
"""Fallback for the campaign id: a workbook-level defined name whose value is ``="<id>"``."""


@dataclass(frozen=True, slots=True)
class RowResult:
    """What to write into one row's result columns; None leaves a cell unchanged."""

    status: str | None = None
    sms_id: str | None = None
    parts: int | None = None
    cost: float | None = None
    error: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None

    def cells(self) -> tuple[object, ...]:
        """The values in :data:`RESULT_COLUMNS` order (None: leave that cell as it is)."""
        return (
            self.status,
            self.sms_id,
            self.parts,
            self.cost,
            self.error,
            self.sent_at,
            self.delivered_at,
        )

    def merged(self, newer: RowResult) -> RowResult:
        """This result with every field ``newer`` sets (None in ``newer`` keeps this one's)."""
        changes: dict[str, Any] = {
            f.name: getattr(newer, f.name)
            for f in fields(newer)
            if getattr(newer, f.name) is not None
        }
        return replace(self, **changes)


class ResultSink(Protocol):
    """Where a surface puts results: the .xlsx/.csv writers, the add-in's action builder,
    the xlwings range writer."""

    def set(self, row: int, result: RowResult) -> None:
        """Put ``result`` into the result cells of Excel row ``row`` (None fields: leave as is)."""

    def set_campaign_id(self, campaign_id: str | None) -> None:
        """Store ``campaign_id`` with the next save (None removes it)."""

    def save(self) -> object:
        """Make everything set so far durable; when this returns, it is."""


@dataclass(frozen=True, slots=True)
class Row:
    """One data row. ``number`` is the Excel row number (header in row 1 -> first data row 2)."""

    number: int
    values: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """A header row and the data rows below it, from one sheet.

    ``header`` holds the header texts as written (None/blank headers become ``""``).
    ``header_row`` is the Excel row number of the header; ``first_column`` the 1-based
    Excel column of ``header[0]``. ``campaign_id`` is the id stored in the workbook by an
    earlier send (None when there is none); ``hidden_rows`` counts the rows left out because
    they were hidden (by a filter or by hand).
    """

    header: tuple[str, ...]
    rows: Sequence[Row]
    sheet: str = "Sheet1"
    source: str = ""
    header_row: int = 1
    first_column: int = 1
    campaign_id: str | None = None
    hidden_rows: int = 0

    def column_index(self, name: str) -> int | None:
        """Index of the column whose header is ``name`` (exact, then case/space-insensitive)."""
        if name in self.header:
            return self.header.index(name)
        wanted = " ".join(name.split()).casefold()
        for i, h in enumerate(self.header):
            if " ".join(h.split()).casefold() == wanted:
                return i
        return None
