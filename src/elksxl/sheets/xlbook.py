"""An open xlwings Book as input: the selected rows as a Table, its named cells, its campaign id.

Only the public Book/Sheet/Range API is used, so the same code runs on the desktop engines
(Windows COM, macOS AppleScript) and on any other xlwings Book. What the selection means:

- a selection inside an Excel table (ListObject) reads that table: its header row, and the
  selected rows of its body (all of them when one cell or the header row is selected);
- otherwise the header is the first non-empty row of the sheet's used range (as in
  ``elksxl plan``), and the rows are the selected ones below it (all when one cell is selected);
- every Row keeps its sheet row number, so results land beside it; fully empty rows are skipped;
- rows hidden by a filter or by hand are left out and counted, where the engine can tell.
  The desktop engines can; an engine that cannot read row heights synchronously (xlwings'
  JSON engine) leaves every row in and says so in :attr:`Selection.visibility_known`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

from ..errors import WorkbookError
from ..table import CAMPAIGN_NAME, CAMPAIGN_PROPERTY, Cell, Row, Table
from .files import column_letter
from .reader import header_text

__all__ = [
    "CAMPAIGN_NAME",
    "CAMPAIGN_PROPERTY",
    "Selection",
    "named_value",
    "read_campaign_id",
    "read_selection",
    "visible_spans",
    "write_campaign_id",
]

# One area of an address such as "$A$3:$C$9", "$A:$C" or "$3:$9" (sheet prefix removed).
_AREA: Final = re.compile(r"\$?([A-Z]*)\$?(\d*)(?::\$?([A-Z]*)\$?(\d*))?")
_QUOTED: Final = re.compile(r'^="((?:[^"]|"")*)"$')
_PROPERTY_TEXT: Final = 4  # msoPropertyTypeString

HeightOf = Callable[[int, int], float | None]


@dataclass(frozen=True)
class Selection:
    """What :func:`read_selection` found."""

    table: Table
    campaign_id: str | None
    hidden_rows: int  # rows left out because hidden
    visibility_known: bool  # False: the engine cannot tell hidden rows; none were left out
    list_object: str | None  # the Excel table's name when the selection is in one


def read_selection(book: Any) -> Selection:
    """The selected rows of ``book`` with their header, as a Table (see the module docstring)."""
    selection = book.selection
    if selection is None:
        raise WorkbookError("nothing is selected: select the rows to send to", file=book.name)
    sheet = selection.sheet
    list_object = _list_object(sheet, selection)
    if list_object is not None:
        header_row, first_column, values = _list_object_block(book, sheet, list_object)
    else:
        header_row, first_column, values = _used_block(book, sheet)
    header = _header(values[0], book.name, sheet.name, header_row, first_column)
    wanted = _selected_rows(selection.address, header_row)
    rows = [
        Row(header_row + offset, tuple(_cell(v) for v in raw[: len(header)]))
        for offset, raw in enumerate(values[1:], start=1)
        if (wanted is None or header_row + offset in wanted) and any(_present(v) for v in raw)
    ]
    rows, hidden, known = _drop_hidden(sheet, rows, first_column)
    campaign = read_campaign_id(book)
    table = Table(
        header=header,
        rows=rows,
        sheet=sheet.name,
        source=book.name,
        header_row=header_row,
        first_column=first_column,
        campaign_id=campaign,
        hidden_rows=hidden,
    )
    name = list_object.name if list_object is not None else None
    return Selection(table, campaign, hidden, known, name)


def _list_object(sheet: Any, selection: Any) -> Any:
    row, column = selection.row, selection.column
    for list_object in sheet.tables:
        area = list_object.range
        rows, columns = area.shape
        if area.row <= row < area.row + rows and area.column <= column < area.column + columns:
            return list_object
    return None


def _list_object_block(book: Any, sheet: Any, list_object: Any) -> tuple[int, int, list[list[Any]]]:
    header = list_object.header_row_range
    if header is None:
        raise WorkbookError(
            f"the table {list_object.name!r} has no header row: turn on Header Row "
            "(Table Design tab) so its columns have names",
            file=book.name,
            sheet=sheet.name,
        )
    area = list_object.range
    return header.row, header.column, _values(area)


def _used_block(book: Any, sheet: Any) -> tuple[int, int, list[list[Any]]]:
    used = sheet.used_range
    values = _values(used)
    for offset, raw in enumerate(values):
        if any(_present(v) for v in raw):
            below = values[offset:]
            used_columns = [i for i in range(len(raw)) if any(_present(r[i]) for r in below)]
            first, last = used_columns[0], used_columns[-1]
            block = [r[first : last + 1] for r in below]
            return used.row + offset, used.column + first, block
    raise WorkbookError(
        "the sheet is empty: put a header row (such as Phone, Name) and the rows below it",
        file=book.name,
        sheet=sheet.name,
    )


def _values(area: Any) -> list[list[Any]]:
    values = area.options(ndim=2).value
    return [list(row) for row in values]


def _header(
    raw: Sequence[Any], source: str, sheet: str, row: int, first_column: int
) -> tuple[str, ...]:
    names = tuple(header_text(_cell(v)) for v in raw)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in seen:
            first = f"{column_letter(first_column + seen[name])}{row}"
            second = f"{column_letter(first_column + i)}{row}"
            raise WorkbookError(
                f"two columns have the header {name!r} ({first} and {second}): rename one of "
                "them so each column has its own name",
                file=source,
                sheet=sheet,
                row=row,
            )
        seen.setdefault(name, i)
    return names


def _cell(value: Any) -> Cell:
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # pywin32 marks Excel's zone-less times as UTC
    if isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    return str(value)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _selected_rows(address: str, header_row: int) -> set[int] | range | None:
    """Sheet rows the selection covers; None for "all" (one cell, or the header row selected)."""
    spans: list[tuple[int, int]] = []
    for area in address.split(","):
        match = _AREA.fullmatch(area.rsplit("!", 1)[-1].strip())
        if match is None:
            return None
        _, top, _, bottom = match.groups()
        if not top:  # whole columns
            return None
        spans.append((int(top), int(bottom or top)))
    if len(spans) == 1 and spans[0][0] == spans[0][1] and ":" not in address:
        return None  # one cell: the whole table
    if any(top <= header_row <= bottom for top, bottom in spans):
        return None
    return {row for top, bottom in spans for row in range(top, bottom + 1)}


def _drop_hidden(sheet: Any, rows: list[Row], column: int) -> tuple[list[Row], int, bool]:
    if not rows:
        return rows, 0, True

    def height(top: int, bottom: int) -> float | None:
        height: float | None = sheet.range((top, column), (bottom, column)).row_height
        return height

    try:
        visible = set(_visible_rows(rows, height))
    except (NotImplementedError, AttributeError):
        return rows, 0, False
    kept = [row for row in rows if row.number in visible]
    return kept, len(rows) - len(kept), True


def _visible_rows(rows: Sequence[Row], height: HeightOf) -> Iterator[int]:
    numbers = [row.number for row in rows]
    start = 0
    for i in range(1, len(numbers) + 1):  # contiguous runs of row numbers
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            for top, bottom in visible_spans(numbers[start], numbers[i - 1], height):
                yield from range(top, bottom + 1)
            start = i


def visible_spans(top: int, bottom: int, height: HeightOf) -> Iterator[tuple[int, int]]:
    """The visible spans of rows ``top..bottom``, from the height of row ranges.

    Excel reports one height for a range whose rows are all as high, 0 when they are all
    hidden and nothing when they differ; so an unfiltered block costs one question and a
    filtered one about two per boundary between shown and hidden rows (halving the rest).
    """
    value = height(top, bottom)
    if value is not None:
        if value > 0:
            yield top, bottom
        return
    if top == bottom:  # a single row of unknown height: keep it
        yield top, bottom
        return
    middle = (top + bottom) // 2
    yield from visible_spans(top, middle, height)
    yield from visible_spans(middle + 1, bottom, height)


def named_value(book: Any, name: str) -> Cell:
    """The value of the one cell a workbook name points at; None when there is no such name."""
    found = _find_name(book, name)
    if found is None:
        return None
    try:
        area = found.refers_to_range
    except Exception:  # the name is a constant or formula, not a cell
        area = None
    if area is None or area.shape != (1, 1):
        raise WorkbookError(
            f"the name {name} must point at one cell (it is {found.refers_to}): "
            "select one cell and name it in the Name Box",
            file=book.name,
        )
    return _cell(area.value)


def _find_name(book: Any, name: str) -> Any:
    wanted = name.casefold()
    for candidate in book.names:
        # Desktop Excel lists sheet-level names as "Sheet1!NAME".
        if candidate.name.rsplit("!", 1)[-1].casefold() == wanted:
            return candidate
    return None


def read_campaign_id(book: Any) -> str | None:
    """The campaign id stored in ``book``: its document property, else its defined name."""
    properties = _properties(book)
    if properties is not None:
        try:
            return str(properties.Item(CAMPAIGN_PROPERTY).Value) or None
        except Exception:  # pywintypes.com_error: no such property; try the name
            pass
    name = _find_name(book, CAMPAIGN_NAME)
    if name is None:
        return None
    match = _QUOTED.match(name.refers_to or "")
    return match.group(1).replace('""', '"') if match else None


def write_campaign_id(book: Any, campaign_id: str | None) -> None:
    """Store ``campaign_id`` in ``book`` (None removes it): a document property where the
    engine reaches them (desktop Windows), else a workbook-level name ``="<id>"``."""
    properties = _properties(book)
    if properties is not None:
        with contextlib.suppress(Exception):  # pywintypes.com_error: there was none
            properties.Item(CAMPAIGN_PROPERTY).Delete()
        if campaign_id is not None:
            properties.Add(CAMPAIGN_PROPERTY, False, _PROPERTY_TEXT, campaign_id)
        return
    name = _find_name(book, CAMPAIGN_NAME)
    if campaign_id is None:
        if name is not None:
            name.delete()
        return
    formula = '="' + campaign_id.replace('"', '""') + '"'
    if name is not None:
        name.refers_to = formula
    else:
        book.names.add(CAMPAIGN_NAME, formula)


def _properties(book: Any) -> Any:
    """The COM CustomDocumentProperties of ``book``, or None where the engine has none."""
    try:
        return book.api.CustomDocumentProperties
    except Exception:  # not a COM workbook (macOS, JSON engine): properties are out of reach
        return None
