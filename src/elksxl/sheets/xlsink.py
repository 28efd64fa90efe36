"""Results into an open xlwings Book: only the result columns, in batches, beside each row.

:class:`RangeResultSink` is the xlwings ResultSink. Result columns already in the header row
are reused (case and spacing ignored); missing ones are created, in RESULT_COLUMNS order,
right of the sheet's used range, so no user cell is overwritten. Results are held until a
batch is full or :meth:`RangeResultSink.save` is called, then written as one range per run
of consecutive rows per column: a few calls into Excel instead of one per cell, so Excel
repaints between batches instead of freezing.

As with the file writers: a None field leaves its cell as it is; text from outside (ids,
error bodies) is stored as text even when it starts with ``=`` or looks like a number; times
are written in this computer's local time without a zone (Excel has none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from ..table import RESULT_COLUMNS, RowResult, Table
from .reader import header_text
from .xlbook import write_campaign_id

__all__ = ["RangeResultSink"]

_FORMATS: Final = {
    "SMS status": "@",
    "SMS id": "@",
    "SMS parts": "0",
    "SMS cost": "0.00##",
    "SMS error": "@",
    "SMS sent at": "yyyy-mm-dd hh:mm:ss",
    "SMS delivered at": "yyyy-mm-dd hh:mm:ss",
}
# Text Excel would turn into a formula, an error value, a number or a date when assigned.
_RISKY: Final = re.compile(r"^[=+\-@#']|^[\d\s.,:/%()-]+$")
_MAX_TEXT: Final = 32_767
_ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class RangeResultSink:
    """Writes RowResults into the result columns of ``table``'s sheet in ``book``.

    ``batch_rows`` rows are held before they are written; ``save_book`` makes
    :meth:`save` also save the workbook (its own file), so results and the campaign id
    survive an Excel crash. Without it :meth:`save` only writes the cells.
    """

    def __init__(
        self, book: Any, table: Table, *, batch_rows: int = 200, save_book: bool = False
    ) -> None:
        self._book = book
        self._sheet = book.sheets[table.sheet]
        self._header_row = table.header_row
        self._last_row = max((row.number for row in table.rows), default=table.header_row)
        self._batch_rows = batch_rows
        self._save_book = save_book
        self._pending: dict[int, RowResult] = {}
        self._campaign: tuple[str | None] | None = None
        self._columns = self._place_columns(table)

    @property
    def columns(self) -> dict[str, int]:
        """Result column header -> 1-based sheet column."""
        return dict(self._columns)

    def set(self, row: int, result: RowResult) -> None:
        """Hold ``result`` for Excel row ``row``; written with the batch or the next save."""
        if row <= self._header_row:
            raise ValueError(f"row {row} is not below the header row {self._header_row}")
        earlier = self._pending.get(row)
        # A later result wins field by field; None keeps the earlier.
        self._pending[row] = result if earlier is None else earlier.merged(result)
        if len(self._pending) >= self._batch_rows:
            self._write()

    def set_campaign_id(self, campaign_id: str | None) -> None:
        """Store ``campaign_id`` in the workbook with the next save (None removes it)."""
        self._campaign = (campaign_id,)

    def save(self) -> object:
        """Write everything held, the campaign id, and save the workbook when asked to."""
        self._write()
        if self._campaign is not None:
            write_campaign_id(self._book, self._campaign[0])
            self._campaign = None
        if self._save_book:
            self._book.save()
        return self._book.name

    def _write(self) -> None:
        pending, self._pending = self._pending, {}
        for index, name in enumerate(RESULT_COLUMNS):
            column = self._columns[name]
            cells = {
                row: _excel_value(result.cells()[index])
                for row, result in pending.items()
                if result.cells()[index] is not None
            }
            for top, values in _runs(cells):
                bottom = top + len(values) - 1
                self._sheet.range((top, column), (bottom, column)).value = [[v] for v in values]

    def _place_columns(self, table: Table) -> dict[str, int]:
        top = self._header_row
        used = self._sheet.used_range
        last = max(used.column + used.shape[1] - 1, table.first_column + len(table.header) - 1)
        header = self._sheet.range((top, 1), (top, last)).options(ndim=2).value[0]
        wanted = {_fold(name): name for name in RESULT_COLUMNS}
        found: dict[str, int] = {}
        for column, value in enumerate(header, start=1):
            name = wanted.get(_fold(header_text(value)))
            if name is not None and name not in found:
                found[name] = column
        missing = [name for name in RESULT_COLUMNS if name not in found]
        if missing:
            start = last + 1
            self._sheet.range((top, start), (top, start + len(missing) - 1)).value = [missing]
            for offset, name in enumerate(missing):
                found[name] = start + offset
                self._format_new_column(name, start + offset)
        return found

    def _format_new_column(self, name: str, column: int) -> None:
        header = self._sheet.range((self._header_row, column))
        bottom = max(self._last_row, self._header_row + 1)
        body = self._sheet.range((self._header_row + 1, column), (bottom, column))
        try:
            header.font.bold = True
            body.number_format = _FORMATS[name]
        except NotImplementedError:  # an engine without formatting: values are enough
            pass


def _runs(cells: Mapping[int, object]) -> Iterator[tuple[int, list[object]]]:
    """Runs of consecutive rows: (first row, values)."""
    run: list[object] = []
    top = previous = 0
    for row in sorted(cells):
        if run and row != previous + 1:
            yield top, run
            run = []
        if not run:
            top = row
        run.append(cells[row])
        previous = row
    if run:
        yield top, run


def _excel_value(value: object) -> object:
    if isinstance(value, str):
        text = _ILLEGAL.sub("", value)[:_MAX_TEXT]
        # The apostrophe is Excel's own "this is text" prefix; it is not part of the value.
        return "'" + text if _RISKY.search(text) else text
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)
    return value


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()
