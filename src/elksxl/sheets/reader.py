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

The header is the first non-empty row. Header texts are stripped; blank ones become ``""``
(no placeholder can name them); two columns with the same header are an error. Fully empty
rows are skipped wherever they are, and every Row keeps its real Excel row number. A header
with nothing below it is a table without rows, not an error. With no sheet named, the first
visible worksheet is read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum
from python_calamine import SheetVisibleEnum as Visible

from ..errors import WorkbookError
from ..table import Cell, Row, Table
from .docprops import read_campaign_id
from .files import check_workbook_file, column_letter, damaged, password_protected

__all__ = ["header_text", "read_table"]

# Text that is only digits and phone punctuation, with enough digits to be a phone number.
_PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().\-/]{5,}\d")


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read ``sheet`` (the first visible worksheet unless named) of the workbook at ``path``.

    Raises WorkbookError for every file, sheet or header problem, naming the file and saying
    what to do.
    """
    with stream_table(path, sheet) as (table, rows):
        return replace(table, rows=list(rows))


@contextmanager
def stream_table(path: Path, sheet: str | None = None) -> Iterator[tuple[Table, Iterator[Row]]]:
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
            table, rows = _start_table(iter(raw.iter_rows()), raw.end, sheet=name, source=str(path))
            yield replace(table, campaign_id=_campaign_id(path)), rows
    except PasswordError as e:
        raise password_protected(path) from e
    except CalamineError as e:
        raise damaged(path, e) from e


def _campaign_id(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return read_campaign_id(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise damaged(path, e) from e


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


def _start_table(
    rows: Iterator[Sequence[Any]], end: tuple[int, int] | None, *, sheet: str, source: str
) -> tuple[Table, Iterator[Row]]:
    # python-calamine yields rows from row 1 down to the last used row (and columns from the
    # first used one), so the count of rows read is the Excel row number; _data checks that
    # the count ends at the used range's last row, so a library change cannot shift numbers.
    convert = _Converter()
    for count, raw in enumerate(rows, start=1):
        values = convert.row(raw)
        if values.count(None) == len(values):
            continue
        if end is None:
            break
        first_column = end[1] + 2 - len(values)
        names = _header_names(values, count, first_column, sheet=sheet, source=source)
        table = Table(
            header=names,
            rows=(),
            sheet=sheet,
            source=source,
            header_row=count,
            first_column=first_column,
        )
        return table, _data(rows, convert, count, end[0] + 1)
    raise WorkbookError(
        "the sheet is empty: put a header row (such as Telefon, Förnamn) in row 1 "
        "and one recipient per row below it",
        file=source,
        sheet=sheet,
    )


def _data(
    rows: Iterator[Sequence[Any]], convert: _Converter, header_row: int, last_row: int
) -> Iterator[Row]:
    count = header_row
    for count, raw in enumerate(rows, start=header_row + 1):
        values = convert.row(raw)
        if values.count(None) != len(values):
            yield Row(count, values)
    if count != last_row:
        raise WorkbookError(
            f"read {count} rows where the sheet uses {last_row}: the reading library changed "
            "how it numbers rows; please report this"
        )


class _Converter:
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


def _header_names(
    cells: Sequence[Cell], row: int, first_column: int, *, sheet: str, source: str
) -> tuple[str, ...]:
    if _looks_like_data(cells):
        raise WorkbookError(
            f"row {row} looks like data, not a header: insert a header row above it that names "
            "the columns, such as Telefon, Förnamn",
            file=source,
            sheet=sheet,
            row=row,
        )
    names = tuple(header_text(v) for v in cells)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            first = f"{column_letter(first_column + seen[name])}{row}"
            second = f"{column_letter(first_column + i)}{row}"
            raise WorkbookError(
                f"two columns have the header {name!r} ({first} and {second}): "
                "rename one of them so each column has its own name",
                file=source,
                sheet=sheet,
                row=row,
            )
        seen[name] = i
    return names


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


def _looks_like_data(cells: Sequence[Cell]) -> bool:
    words = [v for v in cells if isinstance(v, str) and v.strip()]
    if not words or all(_PHONE_LIKE.fullmatch(w.strip()) for w in words):
        return True
    # A phone number anywhere in the row means the first recipient, not a column name.
    return any(
        (isinstance(v, str) and _PHONE_LIKE.fullmatch(v.strip()))
        or (isinstance(v, int | float) and not isinstance(v, bool) and abs(v) >= 1_000_000)
        for v in cells
    )
