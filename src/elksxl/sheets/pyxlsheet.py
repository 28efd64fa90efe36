"""The result columns of one openpyxl sheet: read the facts placement needs, create the columns,
and fill their cells fast.

Where the columns go is decided in :mod:`elksxl.sheets.columns`, shared with the XML writer.
Only cells in result columns are ever created or changed. Cells are built directly (not through
``Worksheet.cell``, which validates and re-infers types on every call) because a write-back of
100,000 rows fills over half a million of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from copy import copy
from datetime import datetime
from typing import Any, Final

from openpyxl.cell.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.styleable import StyleableObject
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import WorkbookError
from ..table import RESULT_COLUMNS, Table
from .columns import (
    COST_FORMAT,
    ILLEGAL,
    MAX_TEXT,
    TIME_FORMAT,
    WIDTHS,
    Placement,
    SheetFacts,
    fold,
)
from .files import column_letter
from .layout import ExcelTable, table_of
from .xmlparts import span

__all__ = ["Filler", "create_columns", "excel_table", "sheet_facts", "widen"]

_Write = Callable[[Any, Any, bool], None]


def excel_table(sheet: Worksheet, table: Table) -> ExcelTable | None:
    """The Excel table of ``sheet`` that ``table`` was read from, if any."""
    found = [
        ExcelTable(
            name=t.displayName or t.name or "",
            part=name,
            span=span(t.ref),
            header_rows=1 if t.headerRowCount is None else int(t.headerRowCount),
            totals_rows=int(t.totalsRowCount or 0),
        )
        for name, t in dict.items(sheet.tables)
    ]
    return table_of(found, table)


def sheet_facts(sheet: Worksheet, table: Table, listed: ExcelTable | None) -> SheetFacts:
    """The header row, used columns and merged ranges of ``sheet`` below ``table.header_row``
    (inside ``listed``, the Excel table, when there is one)."""
    top = table.header_row
    bottom = listed.span[3] if listed else None
    merged = [
        (r.min_col, r.min_row, r.max_col, r.max_row)
        for r in sheet.merged_cells.ranges
        if r.max_row >= top and (bottom is None or r.min_row <= bottom)
    ]
    last_used = max([_last_used_column(sheet, table, bottom), *(m[2] for m in merged)])
    cells = sheet._cells
    header = {
        col: cells[(top, col)].value for col in range(1, last_used + 1) if (top, col) in cells
    }
    return SheetFacts(header, last_used, merged, listed.span if listed else None)


def widen(sheet: Worksheet, listed: ExcelTable, placement: Placement) -> None:
    """Make the new result columns part of the Excel table ``listed``."""
    from openpyxl.worksheet.table import TableColumn

    if placement.widened is None or placement.widened == listed.span:
        return
    grown = ExcelTable(listed.name, listed.part, placement.widened, totals_rows=listed.totals_rows)
    found = sheet.tables[listed.part]
    found.ref = grown.ref
    if found.autoFilter is not None:
        first, _ = grown.ref.split(":")
        last = f"{column_letter(grown.span[2])}{grown.last_data_row}"
        found.autoFilter.ref = f"{first}:{last}"
    ids = [c.id for c in found.tableColumns]
    taken = {fold(c.name or "") for c in found.tableColumns}
    for i, col in enumerate(sorted(placement.new), start=max([0, *ids]) + 1):
        name = placement.new[col]
        if fold(name) in taken:
            raise WorkbookError(
                f"the Excel table {listed.name!r} already has a column {name!r} elsewhere",
                sheet=sheet.title,
            )
        found.tableColumns.append(TableColumn(id=i, name=name))


def _last_used_column(sheet: Worksheet, table: Table, bottom: int | None) -> int:
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
        if col > known
        and row >= top
        and (bottom is None or row <= bottom)
        and cell.value is not None
    ]
    return max(beyond, default=known)


def create_columns(sheet: Worksheet, placement: Placement, table: Table) -> None:
    """Write the headers of the new result columns, styled like the last header, in bold."""
    style = _header_style(sheet, table)
    for col, name in placement.new.items():
        _create_column(sheet, table.header_row, col, name, style)


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
        sheet.column_dimensions[column_letter(col)].width = WIDTHS[name]


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
    text = ILLEGAL.sub("", str(value))[:MAX_TEXT]
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
