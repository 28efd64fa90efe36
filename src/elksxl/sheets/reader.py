"""Read one sheet of a workbook file into a :class:`~elksxl.table.Table`, fast and lean.

Values come from python-calamine, which reads the cached results of formulas and never loads
styles, so 100,000 rows take well under a second. What a cell becomes:

- numbers: as calamine returns them (floats for every numeric .xlsx cell; ints stay ints);
  the phone module turns integral floats back into digits exactly;
- dates, date-times and times: ``date``, ``datetime``, ``time``; a duration longer than a
  day (``[h]:mm`` format) becomes text such as ``"30:00:00"``;
- text: as written (never stripped); empty cells, empty strings and error values
  (``#N/A``) become None;
- formulas: their cached value; a formula saved without one (a file written by a program
  that does not calculate, such as openpyxl) reads as None;
- merged cells: only the top-left cell holds the value, as in Excel's own cell references.
  A merged header spanning several columns names the first of them; the others get ``""``.

Which rows: the header is found as :mod:`elksxl.sheets.start` says (an Excel table's header,
the row named, else the first non-empty row below any title rows). Header texts are stripped;
blank ones become ``""`` (no placeholder can name them); two columns with the same header are
an error. Fully empty rows are skipped wherever they are, and every Row keeps its real Excel
row number. Rows hidden by a filter or by hand are left out (and counted in
``Table.hidden_rows``) unless asked for. A header with nothing below it is a table without
rows, not an error. With no sheet named, the first visible worksheet is read. The campaign id
stored in the workbook is read into ``Table.campaign_id``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum
from python_calamine import SheetVisibleEnum as Visible

from ..errors import WorkbookError
from ..table import Row, Table
from .files import check_workbook_file, damaged, password_protected
from .layout import ExcelTable, SheetLayout, read_layout
from .start import Where, start_table
from .values import header_text

__all__ = ["header_text", "read_table", "stream_table"]


def read_table(
    path: Path,
    sheet: str | None = None,
    *,
    header_row: int | None = None,
    table: str | None = None,
    include_hidden: bool = False,
) -> Table:
    """Read ``sheet`` (the first visible worksheet unless named) of the workbook at ``path``.

    ``header_row`` names the header's Excel row instead of finding it; ``table`` names the
    Excel table to read when the sheet holds several; ``include_hidden`` keeps hidden rows.
    Raises WorkbookError for every file, sheet or header problem, naming the file and saying
    what to do.
    """
    with stream_table(
        path, sheet, header_row=header_row, table=table, include_hidden=include_hidden
    ) as (found, rows):
        return replace(found, rows=list(rows))


@contextmanager
def stream_table(
    path: Path,
    sheet: str | None = None,
    *,
    header_row: int | None = None,
    table: str | None = None,
    include_hidden: bool = False,
) -> Iterator[tuple[Table, Iterator[Row]]]:
    """Like :func:`read_table`, but the rows come one at a time from an iterator.

    The yielded Table has the header and no rows; the iterator is valid inside the ``with``
    block only. For very large sheets: a planner that consumes rows as they come never holds
    the whole table in memory.
    """
    path = Path(path)
    check_workbook_file(path)
    try:
        with CalamineWorkbook.from_path(path) as book:
            name = _pick_sheet(book, sheet, path)
            raw = book.get_sheet_by_name(name)
            layout = _layout(path, name)
            where = Where(
                sheet=name,
                source=str(path),
                header_row=header_row,
                excel_table=_pick_excel_table(layout.tables, table, path, name),
                merged_rows=frozenset(
                    r0 + 1 for (r0, c0), (_, c1) in raw.merged_cell_ranges or () if c1 > c0
                ),
            )
            found, rows = start_table(iter(raw.iter_rows()), raw.end, where)
            hidden = frozenset() if include_hidden else layout.hidden
            last = where.excel_table.last_data_row if where.excel_table else None
            count = sum(1 for r in hidden if r > found.header_row and (last is None or r <= last))
            found = replace(found, campaign_id=layout.campaign_id, hidden_rows=count)
            yield found, (row for row in rows if row.number not in hidden) if hidden else rows
    except PasswordError as e:
        raise password_protected(path) from e
    except CalamineError as e:
        raise damaged(path, e) from e


def _layout(path: Path, sheet: str) -> SheetLayout:
    try:
        return read_layout(path, sheet)
    except (zipfile.BadZipFile, OSError) as e:
        raise damaged(path, e) from e


def _pick_excel_table(
    tables: Sequence[ExcelTable], wanted: str | None, path: Path, sheet: str
) -> ExcelTable | None:
    if wanted is not None:
        for candidate in tables:
            if candidate.name.casefold() == wanted.strip().casefold():
                return _usable(candidate, path, sheet)
        listed = ", ".join(repr(t.name) for t in tables) or "none"
        raise WorkbookError(
            f"there is no Excel table named {wanted!r} on this sheet; its tables are: {listed}",
            file=str(path),
            sheet=sheet,
        )
    if len(tables) > 1:
        listed = ", ".join(repr(t.name) for t in tables)
        raise WorkbookError(
            f"the sheet holds several Excel tables ({listed}): name the one to send to",
            file=str(path),
            sheet=sheet,
        )
    return _usable(tables[0], path, sheet) if tables else None


def _usable(table: ExcelTable, path: Path, sheet: str) -> ExcelTable:
    if table.header_rows < 1:
        raise WorkbookError(
            f"the Excel table {table.name!r} has no header row: turn on its Header Row "
            "(Table Design) so its columns have names",
            file=str(path),
            sheet=sheet,
        )
    return table


def _pick_sheet(book: CalamineWorkbook, wanted: str | None, path: Path) -> str:
    worksheets = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    if wanted is None:
        visible = [m for m in worksheets if m.visible == Visible.Visible]
        chosen = (visible or worksheets)[:1]
        if not chosen:
            raise WorkbookError("the workbook has no worksheet with cells", file=str(path))
        return chosen[0].name
    names = [m.name for m in book.sheets_metadata]
    if wanted not in names:
        # Forgive case and stray spaces when that names exactly one sheet.
        folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
        if len(folded) != 1:
            listed = ", ".join(repr(n) for n in names)
            raise WorkbookError(
                f"there is no sheet named {wanted!r}; the sheets are: {listed}", file=str(path)
            )
        wanted = folded[0]
    if all(m.name != wanted for m in worksheets):
        raise WorkbookError(
            "this is a chart or macro sheet, not a sheet with cells: name another sheet",
            file=str(path),
            sheet=wanted,
        )
    return wanted
