"""The result columns of one openpyxl sheet: find or create them, and fill their cells fast.

Only cells in result columns are ever created or changed. Cells are built directly (not through
``Worksheet.cell``, which validates and re-infers types on every call) because a write-back of
100,000 rows fills over half a million of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from openpyxl.cell.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.styleable import StyleableObject
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import WorkbookError
from ..table import RESULT_COLUMNS, Table
from .files import column_letter, header_changed
from .reader import header_text

__all__ = ["COST_FORMAT", "TIME_FORMAT", "Filler", "place_columns"]

COST_FORMAT: Final = "0.00##"
TIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
_MAX_TEXT: Final = 32_767  # Excel's limit for one cell
# Control characters XML 1.0 cannot carry (the set openpyxl refuses).
_ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_Write = Callable[[Any, Any, bool], None]
_WIDTHS: Final = {
    "SMS status": 11,
    "SMS id": 36,
    "SMS parts": 10,
    "SMS cost": 10,
    "SMS error": 40,
    "SMS sent at": 20,
    "SMS delivered at": 20,
}


def place_columns(sheet: Worksheet, table: Table, path: Path) -> dict[str, int]:
    """Result header -> column number: existing result columns, then new ones at the right.

    A result column is reused wherever it is in the header row (case and spacing ignored).
    Missing ones are created, in RESULT_COLUMNS order, right of every used cell at or below
    the header row, so no user cell is overwritten.
    """
    top = table.header_row
    last_used = _last_used_column(sheet, table)
    merged = [r for r in sheet.merged_cells.ranges if r.max_row >= top]
    last_used = max([last_used, *(r.max_col for r in merged)])
    header = {
        col: sheet._cells[(top, col)].value
        for col in range(1, last_used + 1)
        if (top, col) in sheet._cells
    }
    _check_header(header, table, path)

    found: dict[str, int] = {}
    wanted = {_fold(name): name for name in RESULT_COLUMNS}
    for col, value in header.items():
        name = wanted.get(_fold(header_text(value)))
        if name and name not in found:
            found[name] = col
    for name, col in found.items():
        for rng in merged:
            if rng.min_col <= col <= rng.max_col:
                raise WorkbookError(
                    f"the {name!r} column has merged cells ({rng.coord}): unmerge them so "
                    "each row can get its own result",
                    file=str(path),
                    sheet=table.sheet,
                )
    style = _header_style(sheet, table)
    next_col = last_used + 1
    for name in RESULT_COLUMNS:
        if name not in found:
            _create_column(sheet, top, next_col, name, style)
            found[name] = next_col
            next_col += 1
    return found


def _last_used_column(sheet: Worksheet, table: Table) -> int:
    known = table.first_column + len(table.header) - 1
    # The cell dict is private, but reading it is the only way to find used cells without
    # creating empty ones. The cheap key scan settles the common case (nothing right of the
    # table); only then are values beyond it looked at.
    cells = sheet._cells
    if not cells or max(col for _, col in cells) <= known:
        return known
    top = table.header_row
    beyond = [
        col
        for (row, col), cell in cells.items()
        if col > known and row >= top and cell.value is not None
    ]
    return max(beyond, default=known)


def _check_header(header: Mapping[int, Any], table: Table, path: Path) -> None:
    """Refuse to write if the header row differs from the table's: rows may have moved."""
    for i, expected in enumerate(table.header):
        col = table.first_column + i
        value = header.get(col)
        if isinstance(value, str) and value.startswith("="):
            continue  # a formula header: the table holds its cached value
        found = header_text(value)
        if found != expected:
            raise header_changed(path, table, col, found, expected)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _header_style(sheet: Worksheet, table: Table) -> StyleableObject | None:
    """The cell whose look new headers copy: the last non-blank header cell."""
    for i in range(len(table.header) - 1, -1, -1):
        if table.header[i]:
            cell = sheet._cells.get((table.header_row, table.first_column + i))
            return cell if cell is not None and cell.has_style else None
    return None


def _create_column(
    sheet: Worksheet, row: int, col: int, name: str, style: StyleableObject | None
) -> None:
    cell = Cell(sheet, row=row, column=col)
    sheet._cells[(row, col)] = cell
    if style is not None:
        # The style array carries font, fill, border and alignment in one copy (untyped in stubs).
        cell._style = copy(style._style)  # type: ignore[attr-defined]
    font = copy(cell.font)
    font.b = True
    cell.font = font  # type: ignore[assignment]  # copy() of a StyleProxy is a Font
    _text(cell, name, fresh=True)
    # A <col> range that already covers this column (a formatted whole sheet) must not get an
    # overlapping second entry: Excel would call the file damaged.
    covered = any(
        d.min is not None and d.max is not None and d.min <= col <= d.max
        for d in sheet.column_dimensions.values()
    )
    if not covered:
        sheet.column_dimensions[column_letter(col)].width = _WIDTHS[name]


class Filler:
    """Writes values into the result cells of one row, creating the cells it needs."""

    def __init__(self, sheet: Worksheet, columns: Mapping[str, int]) -> None:
        self._sheet = sheet
        self._cells = sheet._cells
        plan = []
        for name, write, number_format in zip(RESULT_COLUMNS, _WRITERS, _FORMATS, strict=True):
            plan.append((columns[name], write, self._fresh_style(number_format)))
        self._plan: Sequence[tuple[int, _Write, StyleArray | None]] = tuple(plan)

    def _fresh_style(self, number_format: str | None) -> StyleArray | None:
        if number_format is None:
            return None
        # A cell never added to the sheet: setting its format registers the format once.
        scratch = Cell(self._sheet, row=1, column=1)
        scratch.number_format = number_format
        return scratch._style  # type: ignore[attr-defined, no-any-return]

    def put(self, row: int, values: Sequence[object]) -> None:
        """Write ``values`` (aligned with RESULT_COLUMNS; None = leave as is) into ``row``."""
        cells = self._cells
        for (col, write, style), value in zip(self._plan, values, strict=True):
            if value is None:
                continue
            cell = cells.get((row, col))
            if cell is None:
                cell = Cell(self._sheet, row=row, column=col, style_array=style)
                cells[(row, col)] = cell
                write(cell, value, True)
            else:
                write(cell, value, False)


# Each writer sets the stored value and its type directly (``_value`` is not in the type stubs,
# hence ``cell: Any``): openpyxl's value setter would turn "=..." into a formula and "#N/A"
# into an error value. ``fresh`` cells already carry the column's number format; existing ones
# keep a format the user chose.


def _text(cell: Any, value: str, fresh: bool) -> None:
    text = _ILLEGAL.sub("", str(value))[:_MAX_TEXT]
    cell._value = text or None
    cell.data_type = "s" if text else "n"


def _integer(cell: Any, value: int, fresh: bool) -> None:
    cell._value = int(value)
    cell.data_type = "n"


def _cost(cell: Any, value: float, fresh: bool) -> None:
    if not fresh and cell.number_format == "General":
        cell.number_format = COST_FORMAT
    cell._value = float(value)
    cell.data_type = "n"


def _moment(cell: Any, value: datetime, fresh: bool) -> None:
    # Excel has no time zones: write the local wall-clock time, to the second.
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    if not fresh and not cell.is_date:
        cell.number_format = TIME_FORMAT
    cell._value = value.replace(microsecond=0)
    cell.data_type = "d"


_WRITERS: Final[tuple[_Write, ...]] = (_text, _text, _integer, _cost, _text, _moment, _moment)
_FORMATS: Final = (None, None, None, COST_FORMAT, None, TIME_FORMAT, TIME_FORMAT)
