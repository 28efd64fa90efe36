"""The table every surface hands to the planner: a header, and rows with their Excel row numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

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

CAMPAIGN_PROPERTY = "elksxl campaign"  # custom document property holding the campaign id
CAMPAIGN_NAME = "elksxl_campaign"  # fallback: a workbook-level defined name ="<id>"


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


class ResultSink(Protocol):
    """Where a surface puts results: the .xlsx/.csv writers, the add-in's action builder,
    the xlwings range writer."""

    def set(self, row: int, result: RowResult) -> None: ...  # Excel row number

    def set_campaign_id(self, campaign_id: str | None) -> None: ...  # stored with the next save

    def save(self) -> object: ...  # durable when it returns


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
    Excel column of ``header[0]``.
    """

    header: tuple[str, ...]
    rows: Sequence[Row]
    sheet: str = "Sheet1"
    source: str = ""
    header_row: int = 1
    first_column: int = 1
    campaign_id: str | None = None  # read from the workbook (property, else defined name)
    hidden_rows: int = 0  # rows left out because hidden (filter or by hand)

    def column_index(self, name: str) -> int | None:
        """Index of the column whose header is ``name`` (exact, then case/space-insensitive)."""
        if name in self.header:
            return self.header.index(name)
        wanted = " ".join(name.split()).casefold()
        for i, h in enumerate(self.header):
            if " ".join(h.split()).casefold() == wanted:
                return i
        return None
