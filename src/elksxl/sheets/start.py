"""Where a sheet's contact list starts: its header row, its columns, and the rows that follow.

Three ways to find the header, in this order: the sheet's Excel table (its header row and
columns; its totals row is never data); the row the caller names; else the first non-empty
row, skipping title rows above it. A title row holds a single text cell that is merged across
columns or followed by an empty row ("Customer list Q4" in row 1, the header in row 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import WorkbookError
from ..table import Cell, Row, Table
from .files import check_unique_headers
from .layout import ExcelTable
from .values import Converter, header_text

__all__ = ["Where", "start_table"]

# Text that is only digits and phone punctuation, with enough digits to be a phone number.
_PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().\-/]{5,}\d")
_LOOK_AHEAD = 10  # non-empty rows looked at for a header below title rows

_Numbered = Iterator[tuple[int, Sequence[Any]]]


@dataclass(frozen=True)
class Where:
    """The sheet being read and how its header is to be found."""

    sheet: str
    source: str
    header_row: int | None = None
    excel_table: ExcelTable | None = None
    merged_rows: frozenset[int] = frozenset()  # rows with a cell merged across columns


def start_table(
    rows: Iterator[Sequence[Any]], end: tuple[int, int] | None, where: Where
) -> tuple[Table, Iterator[Row]]:
    """The Table (header, no rows) and an iterator over its data rows."""
    # python-calamine yields rows from row 1 down to the last used row (and columns from the
    # first used one), so the count of rows read is the Excel row number; _data checks that
    # the count ends at the used range's last row, so a library change cannot shift numbers.
    if end is None:
        raise _empty(where)
    convert = Converter()
    numbered = enumerate(rows, start=1)
    prefix, seen, width = _read_prefix(numbered, convert, where)
    if not prefix:
        raise _empty(where)
    first_used = end[1] + 2 - width
    at = _header_index(prefix, where)
    number, values = prefix[at]
    first_column, cut = first_used, slice(None)
    stop: int | None = None
    if where.excel_table is not None:
        first_col, _, last_col, _ = where.excel_table.span
        first_column = first_col
        cut = slice(first_col - first_used, last_col - first_used + 1)
        stop = where.excel_table.last_data_row
        values = values[cut]
    names = _header_names(values, number, first_column, where)
    table = Table(
        header=names,
        rows=(),
        sheet=where.sheet,
        source=where.source,
        header_row=number,
        first_column=first_column,
    )
    ahead = [(n, v[cut]) for n, v in prefix[at + 1 :]]
    return table, _data(ahead, numbered, convert, cut, stop, seen, end[0] + 1)


def _read_prefix(
    numbered: _Numbered, convert: Converter, where: Where
) -> tuple[list[tuple[int, tuple[Cell, ...]]], int, int]:
    """Non-empty rows up to the header (and a few beyond when looking for one), the last row
    number read, and the width of calamine's rows."""
    wanted = where.excel_table.header_row if where.excel_table else where.header_row
    prefix: list[tuple[int, tuple[Cell, ...]]] = []
    seen, width = 0, 0
    for seen, raw in numbered:
        width = len(raw)
        values = convert.row(raw)
        if values.count(None) == len(values):
            if wanted is not None and seen >= wanted:
                break
            continue
        if wanted is not None:
            if seen >= wanted:
                prefix.append((seen, values))
                break
            continue
        prefix.append((seen, values))
        if not _title_like(values) or len(prefix) > _LOOK_AHEAD:
            break
    if wanted is not None and (not prefix or prefix[0][0] != wanted):
        raise WorkbookError(
            f"row {wanted} is empty, so it cannot be the header row: name the row that holds "
            "the column names",
            file=where.source,
            sheet=where.sheet,
            row=wanted,
        )
    return prefix, seen, width


def _header_index(prefix: Sequence[tuple[int, tuple[Cell, ...]]], where: Where) -> int:
    """Which of the rows read ahead is the header: past title rows, if any."""
    if where.header_row is not None or where.excel_table is not None:
        return 0
    at = 0
    while at + 1 < len(prefix) and _title_like(prefix[at][1]):
        number, next_number = prefix[at][0], prefix[at + 1][0]
        if number not in where.merged_rows and next_number == number + 1:
            break
        at += 1
    header = prefix[at][1]
    filled = [v for v in header if v is not None]
    if at and (len(filled) < 2 or not all(isinstance(v, str) for v in filled)):
        return 0  # no header below the titles: the first row it is
    if at and _looks_like_data(header):
        return 0
    return at


def _title_like(values: Sequence[Cell]) -> bool:
    filled = [v for v in values if v is not None]
    return len(filled) == 1 and isinstance(filled[0], str)


def _data(
    ahead: list[tuple[int, tuple[Cell, ...]]],
    numbered: _Numbered,
    convert: Converter,
    cut: slice,
    stop: int | None,
    seen: int,
    last_row: int,
) -> Iterator[Row]:
    for number, values in ahead:
        if stop is not None and number > stop:
            return
        if values.count(None) != len(values):
            yield Row(number, values)
    count = seen
    for count, raw in numbered:
        if stop is not None and count > stop:
            return
        values = convert.row(raw[cut])
        if values.count(None) != len(values):
            yield Row(count, values)
    if count != last_row:
        raise WorkbookError(
            f"read {count} rows where the sheet uses {last_row}: the reading library changed "
            "how it numbers rows; please report this"
        )


def _empty(where: Where) -> WorkbookError:
    return WorkbookError(
        "the sheet is empty: put a header row (such as Telefon, Förnamn) in row 1 "
        "and one recipient per row below it",
        file=where.source,
        sheet=where.sheet,
    )


def _header_names(
    cells: Sequence[Cell], row: int, first_column: int, where: Where
) -> tuple[str, ...]:
    source, sheet = where.source, where.sheet
    if where.header_row is None and where.excel_table is None and _looks_like_data(cells):
        raise WorkbookError(
            f"row {row} looks like data, not a header: insert a header row above it that names "
            "the columns, such as Telefon, Förnamn",
            file=source,
            sheet=sheet,
            row=row,
        )
    names = tuple(header_text(v) for v in cells)
    check_unique_headers(names, row, first_column, file=source, sheet=sheet)
    return names


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
