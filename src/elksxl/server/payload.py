"""The task pane's selection payload -> a :class:`~elksxl.table.Table`, by our own rules.

The pane posts what Excel's ``range.values`` gave for the selection (see ADDIN_API.md). The
rules follow the .xlsx reader, so the same rows plan the same way from a file or from the pane:

- the first row is the header (stripped text, whole numbers without ``.0``); two columns with
  the same header are an error naming both cells. ``"header": false`` is a plain block of
  numbers: a header ``Telefon`` is made up for its single column;
- every data row keeps its Excel row number; rows listed in ``hidden_rows`` are left out and
  counted; fully empty rows are skipped;
- ``""`` and Excel error values (``#N/A``) become None; numbers stay as Excel gives them
  (floats: the phone module undoes ``46701234567.0`` exactly); ISO date-time strings (the pane
  sends dates that way) become ``datetime``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import InputError
from ..sheets.files import check_unique_headers, column_letter
from ..sheets.values import header_text
from ..table import Cell, Row, Table

__all__ = ["PLAIN_HEADER", "Selection", "parse_selection"]

PLAIN_HEADER = "Telefon"
"""The header given to the single column of a plain block of numbers."""

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]00:?00)?")
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
)
_MAX_OFFSET = 14 * 60


@dataclass(frozen=True)
class Selection:
    """A parsed selection: the table, and where it sits in the workbook."""

    table: Table
    sheet_position: int
    header: bool  # False: a plain block, no header row in the sheet
    width: int  # columns in the selection
    utc_offset_minutes: int  # the workbook's local time minus UTC

    @property
    def sheet(self) -> str:
        return self.table.sheet

    def cell(self, row: int, column: int) -> str:
        """``Sheet!B7`` for an Excel row and a 0-based column of the selection."""
        return f"{self.table.sheet}!{column_letter(self.table.first_column + column)}{row}"


def parse_selection(payload: Mapping[str, Any]) -> Selection:
    """The Table of a selection payload; InputError (naming the part) when it is malformed."""
    selection = _mapping(payload.get("selection"), "selection")
    sheet = _mapping(payload.get("sheet"), "sheet")
    book = payload.get("book") or {}
    name = sheet.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("the payload has no sheet name (sheet.name)")
    position = _integer(sheet.get("position", 0), "sheet.position", minimum=0)
    first_row = _integer(selection.get("first_row", 1), "selection.first_row", minimum=1)
    first_column = _integer(selection.get("first_column", 1), "selection.first_column", minimum=1)
    values = selection.get("values")
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        raise InputError("selection.values must be a list of rows (lists of cell values)")
    hidden = {
        _integer(h, "selection.hidden_rows", minimum=1) for h in selection.get("hidden_rows") or []
    }
    has_header = payload.get("header", True) is not False
    offset = _integer(payload.get("utc_offset_minutes", 0), "utc_offset_minutes")
    if abs(offset) > _MAX_OFFSET:
        raise InputError(f"utc_offset_minutes {offset} is not a time zone offset")
    campaign = book.get("campaign_id") if isinstance(book, Mapping) else None
    width = max((len(r) for r in values), default=0)
    numbers = _row_numbers(selection.get("row_numbers"), first_row, len(values))
    if has_header:
        header = _header(values[0] if values else [], name, numbers[0], first_column)
        body_numbers, body = numbers[1:], values[1:]
    else:
        if width > 1:
            raise InputError(
                "a block without a header must be a single column of phone numbers: add a "
                "header row (e.g. Telefon, Namn) to use several columns",
                sheet=name,
            )
        header, body_numbers, body = (PLAIN_HEADER,), numbers, values
    rows, left_out = _rows(body, body_numbers, hidden, len(header))
    table = Table(
        header=header,
        rows=rows,
        sheet=name,
        source=str(book.get("name") or "") if isinstance(book, Mapping) else "",
        header_row=numbers[0] if has_header else first_row - 1,
        first_column=first_column,
        campaign_id=campaign if isinstance(campaign, str) and campaign else None,
        hidden_rows=left_out,
    )
    return Selection(table, position, has_header, max(width, len(header)), offset)


def _header(cells: Sequence[Any], sheet: str, row: int, first_column: int) -> tuple[str, ...]:
    header = tuple(header_text(_cell(v)) for v in cells)
    check_unique_headers(header, row, first_column, sheet=sheet)
    return header


def _row_numbers(given: Any, first_row: int, count: int) -> list[int]:
    """The Excel row of each entry of ``values``: ``selection.row_numbers`` when the pane sent
    it (the selected rows need not be next to their header), else consecutive from first_row."""
    if given is None:
        return [first_row + i for i in range(max(count, 1))]
    if not isinstance(given, list) or len(given) != count:
        raise InputError("selection.row_numbers must list one Excel row for each row of values")
    numbers = [_integer(n, "selection.row_numbers", minimum=1) for n in given]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise InputError("selection.row_numbers must go down the sheet (each above the next)")
    return numbers or [first_row]


def _rows(
    body: Sequence[Sequence[Any]], numbers: Sequence[int], hidden: set[int], width: int
) -> tuple[list[Row], int]:
    rows: list[Row] = []
    left_out = 0
    for number, raw in zip(numbers, body, strict=True):
        values = tuple(_cell(v) for v in raw)
        if all(v is None for v in values):
            continue
        if number in hidden:
            left_out += 1
            continue
        rows.append(Row(number, values[:width] + (None,) * (width - len(values))))
    return rows, left_out


def _cell(value: Any) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if value in _EXCEL_ERRORS:
            return None
        if _ISO.fullmatch(value):
            return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=None)
        return value
    return str(value)  # nested lists or objects: Excel never sends them; keep them inert


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(
            f"the payload has no {name!r} object: send the selection as ADDIN_API.md says"
        )
    return value


def _integer(value: object, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise InputError(f"{name} must be {minimum} or more, not {number}")
    return number
