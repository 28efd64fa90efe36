"""Real xw.Book objects from xlwings' JSON engine, and a stand-in for Excel applying their actions.

The JSON engine is xlwings PRO (PolyForm Noncommercial): only these tests use it, with the
noncommercial key; the product code never needs it. A JSON book does not change its own cell
values when written to: it records actions. :func:`applied` plays the few actions our code
emits (setValues, namesAdd, nameUpdate/nameDelete) back into a payload, as Excel would, so a
test can open the book again as it would look after the first run.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw

if not xw.__pro__:  # pragma: no cover - a setup mistake, said plainly
    raise RuntimeError(
        "xlwings was imported before XLWINGS_LICENSE_KEY=noncommercial was set: "
        "set it in the environment to run the xlwings tests"
    )


def payload(
    values: Sequence[Sequence[Any]],
    *,
    selection: str = "A1",
    tables: Sequence[dict[str, Any]] = (),
    names: dict[str, str] | None = None,
    sheet: str = "Sheet1",
) -> dict[str, Any]:
    """A book payload with one sheet holding ``values`` from A1 (rows padded to one width)."""
    width = max((len(row) for row in values), default=1)
    grid = [[("" if v is None else v) for v in row] + [""] * (width - len(row)) for row in values]
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": "People.xlsx", "active_sheet_index": 0, "selection": selection},
        "names": [_name(name, address) for name, address in (names or {}).items()],
        "sheets": [{"name": sheet, "values": grid or [[]], "pictures": [], "tables": list(tables)}],
    }


def table(name: str, top_left: tuple[int, int], rows: int, columns: int) -> dict[str, Any]:
    """An Excel table (ListObject) with a header row, ``rows`` body rows (1-based corner)."""
    row, column = top_left

    def address(r1: int, r2: int) -> str:
        return f"${_letter(column)}${r1}:${_letter(column + columns - 1)}${r2}"

    return {
        "name": name,
        "range_address": address(row, row + rows),
        "header_row_range_address": address(row, row),
        "data_body_range_address": address(row + 1, row + rows),
        "total_row_range_address": None,
        "show_headers": True,
        "show_totals": False,
        "table_style": "TableStyleMedium2",
        "show_autofilter": True,
    }


def with_message(data: dict[str, Any], text: str, *, name: str = "SMS_Message") -> dict[str, Any]:
    """``data`` with a second sheet "Message" whose A1 holds ``text``, named ``name``."""
    data = copy.deepcopy(data)
    data["sheets"].append({"name": "Message", "values": [[text]], "pictures": [], "tables": []})
    index = len(data["sheets"]) - 1
    data["names"].append({**_name(name, "$A$1"), "sheet_index": index})
    return data


@contextmanager
def open_book(data: dict[str, Any]) -> Iterator[Any]:
    book = xw.Book(json=copy.deepcopy(data))
    try:
        yield book
    finally:
        book.close()


def applied(data: dict[str, Any], actions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``data`` after Excel played ``actions`` (only the kinds our code emits)."""
    data = copy.deepcopy(data)
    for action in actions:
        func, args = action["func"], action["args"]
        if func == "setValues":
            grid = data["sheets"][action["sheet_position"]]["values"]
            for i, row in enumerate(action["values"]):
                for j, value in enumerate(row):
                    _put(grid, action["start_row"] + i, action["start_column"] + j, value)
        elif func == "namesAdd":
            data["names"].append({**_name(args[0], None), "refers_to": args[1]})
        elif func == "setNameRefersTo":
            for name in data["names"]:
                if name["name"] == args[0]:
                    name["refers_to"] = args[3]
        elif func == "nameDelete":
            data["names"] = [name for name in data["names"] if name["name"] != args[2]]
    return data


def cell_writes(actions: Sequence[dict[str, Any]]) -> dict[tuple[int, int], Any]:
    """(1-based row, column) -> value for every setValues action."""
    cells: dict[tuple[int, int], Any] = {}
    for action in actions:
        if action["func"] == "setValues":
            for i, row in enumerate(action["values"]):
                for j, value in enumerate(row):
                    cells[(action["start_row"] + i + 1, action["start_column"] + j + 1)] = value
    return cells


def _put(grid: list[list[Any]], row: int, column: int, value: Any) -> None:
    width = max(len(grid[0]), column + 1)
    while len(grid) <= row:
        grid.append([""] * width)
    for line in grid:
        line.extend([""] * (width - len(line)))
    grid[row][column] = value


def _name(name: str, address: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "sheet_index": 0 if address else None,
        "address": address,
        "scope_sheet_name": None,
        "scope_sheet_index": None,
        "book_scope": True,
    }


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
