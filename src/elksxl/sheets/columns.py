"""Where the result columns go, and how their cells look: one rule for both workbook writers.

The writers (openpyxl's and the sheet-XML patcher) each read the facts of a sheet (its header
row, how far its used cells reach, its merged ranges, its Excel table) and hand them to
:func:`place_columns`, so both place columns the same way by construction. No spreadsheet
library is imported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..errors import WorkbookError
from ..table import RESULT_COLUMNS, Table
from .files import column_letter, header_changed
from .values import header_text

__all__ = [
    "COST_FORMAT",
    "FORMULA",
    "ILLEGAL",
    "MAX_TEXT",
    "TIME_FORMAT",
    "WIDTHS",
    "Placement",
    "SheetFacts",
    "Span",
    "Uncertain",
    "UncertainHeader",
    "place_columns",
]

COST_FORMAT: Final = "0.00##"
TIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
MAX_TEXT: Final = 32_767  # Excel's limit for one cell
# What XML 1.0 cannot carry: the control characters openpyxl refuses, lone surrogates, U+FFFE/F.
ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
WIDTHS: Final = {
    "SMS status": 11,
    "SMS id": 36,
    "SMS parts": 10,
    "SMS cost": 10,
    "SMS error": 40,
    "SMS sent at": 20,
    "SMS delivered at": 20,
}

Span = tuple[int, int, int, int]
"""A cell range as (first column, first row, last column, last row), 1-based."""

FORMULA: Final = object()
"""A header cell holding a formula: the table holds its cached value, so it is not compared."""


class Uncertain(str):
    """A number, date or boolean header read as raw text: libraries may render it differently."""


class UncertainHeader(Exception):
    """An :class:`Uncertain` header cell differs from the table's header text."""


@dataclass(frozen=True)
class SheetFacts:
    """What placement needs to know about one sheet, as a writer read it.

    ``header`` holds the header row's values by column, up to ``last_used``; ``last_used`` is
    the rightmost used column (values or merged ranges) in the rows results may go to;
    ``merged`` the merged ranges reaching the header row or below; ``list_object`` the span
    of the Excel table that holds the contact list (None when the sheet has none).
    """

    header: Mapping[int, object]
    last_used: int
    merged: Sequence[Span] = ()
    list_object: Span | None = None


@dataclass(frozen=True)
class Placement:
    """Result header -> column, and the columns to create (column -> header).

    ``widened`` is the Excel table's span with the new columns (None when there is no table
    or it cannot take them because cells right of it are used).
    """

    columns: dict[str, int]
    new: dict[int, str] = field(default_factory=dict)
    widened: Span | None = None


def place_columns(facts: SheetFacts, table: Table, path: Path) -> Placement:
    """Existing result columns, then new ones right of every used cell, in RESULT_COLUMNS order.

    A result column is reused wherever it is in the header row (case and spacing ignored).
    Missing ones are created right of every used cell at or below the header row, so no user
    cell is overwritten. Inside an Excel table, that is right of the table, which is widened to
    hold them. Raises WorkbookError if the header row differs from ``table``'s (rows may have
    moved) or a result column holds merged cells.
    """
    _check_header(facts.header, table, path)
    found: dict[str, int] = {}
    wanted = {fold(name): name for name in RESULT_COLUMNS}
    for col in sorted(facts.header):
        value = facts.header[col]
        if value is FORMULA:
            continue
        name = wanted.get(fold(header_text(value)))
        if name and name not in found:
            found[name] = col
    _refuse_merged(found, facts.merged, table, path)
    new: dict[int, str] = {}
    next_col = facts.last_used + 1
    for name in RESULT_COLUMNS:
        if name not in found:
            found[name] = next_col
            new[next_col] = name
            next_col += 1
    return Placement(found, new, _widened(facts, found))


def _widened(facts: SheetFacts, found: Mapping[str, int]) -> Span | None:
    if facts.list_object is None:
        return None
    first_col, first_row, last_col, last_row = facts.list_object
    right = max([last_col, *found.values()])
    # A table is one block of columns: every result column must touch it or lie inside it.
    if facts.last_used > last_col or any(c < first_col for c in found.values()):
        return None
    return first_col, first_row, right, last_row


def _check_header(header: Mapping[int, object], table: Table, path: Path) -> None:
    """Refuse to write if the header row differs from the table's: rows may have moved."""
    for i, expected in enumerate(table.header):
        col = table.first_column + i
        value = header.get(col)
        if value is FORMULA or (isinstance(value, str) and value.startswith("=")):
            continue
        found = header_text(value)
        if found == expected:
            continue
        if isinstance(value, Uncertain):
            raise UncertainHeader(f"header cell {column_letter(col)}: {found!r} or {expected!r}")
        raise header_changed(path, table, col, found, expected)


def _refuse_merged(
    found: Mapping[str, int], merged: Sequence[Span], table: Table, path: Path
) -> None:
    for name, col in found.items():
        for first_col, first_row, last_col, last_row in merged:
            if last_row >= table.header_row and first_col <= col <= last_col:
                coord = f"{column_letter(first_col)}{first_row}:{column_letter(last_col)}{last_row}"
                raise WorkbookError(
                    f"the {name!r} column has merged cells ({coord}): unmerge them so "
                    "each row can get its own result",
                    file=str(path),
                    sheet=table.sheet,
                )


def fold(text: str) -> str:
    """``text`` compared loosely: case and runs of spaces ignored."""
    return " ".join(text.split()).casefold()
