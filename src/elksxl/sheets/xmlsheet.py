"""One sheet's XML: where the result columns go, and the sheet rewritten with result cells.

:class:`SheetPlan` splits the sheet XML into head, rows and tail, reads the header row (through
the shared strings when needed) and places the result columns with
:func:`~elksxl.sheets.columns.place_columns`. :meth:`SheetPlan.rewrite` streams the new XML:
unchanged stretches are slices of the original, so every other cell keeps its exact bytes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from html import unescape
from pathlib import Path
from typing import Final

from ..table import Table
from .columns import (
    FORMULA,
    WIDTHS,
    Placement,
    SheetFacts,
    Span,
    Uncertain,
    UncertainHeader,
    place_columns,
)
from .files import column_letter
from .layout import ExcelTable
from .xmlcells import CELL_STYLE, CellMaker
from .xmlparts import MAIN_NS, SharedStrings, Unsupported, column_number, span
from .xmlstyles import Styles, attrs

__all__ = ["SheetPlan"]

_ROW: Final = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ROW_NUMBER: Final = re.compile(rb'\sr="(\d+)"')
_CELL: Final = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_CELL_REF: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_CELL_TYPE: Final = re.compile(rb'\st="(\w+)"')
_CONTENT_CELL: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>(?!</c>)')
_FORMULA_CELL: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)><f\b([^>]*)')
_FORMULA_RANGE: Final = re.compile(rb'\st="(?:shared|array|dataTable)"[^>]*?\sref="([^"]+)"')
_MERGE: Final = re.compile(rb'<mergeCell\s+ref="([^"]+)"')
_DIMENSION: Final = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_COLS: Final = re.compile(rb"<cols>(.*?)</cols>", re.S)
_COL: Final = re.compile(rb"<col\b[^>]*?(?:/>|>.*?</col>)", re.S)
_SPANS: Final = re.compile(rb'\sspans="[^"]*"')
_TEXT: Final = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_PHONETIC: Final = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_VALUE: Final = re.compile(rb"<v>(.*?)</v>", re.S)


class SheetPlan:
    """One sheet's XML split into head, rows and tail, with the result columns decided."""

    def __init__(
        self,
        xml: bytes,
        table: Table,
        path: Path,
        styles: Styles,
        strings: SharedStrings,
        excel_table: ExcelTable | None = None,
    ) -> None:
        root = re.search(rb"<(?:(\w+):)?worksheet\b([^>]*)>", xml)
        if root is None or root[1] or MAIN_NS.encode() not in root[2]:
            raise Unsupported("prefixed or non-transitional sheet XML")
        start, end = xml.find(b"<sheetData>"), xml.find(b"</sheetData>")
        if start < 0 or end < start:
            raise Unsupported("no <sheetData> with rows")
        self.xml = xml
        self.data_start, self.data_end = start + len(b"<sheetData>"), end
        data = memoryview(xml)[self.data_start : self.data_end]
        body = bytes(data)
        _check_references(body)
        self.top = table.header_row
        self._styles = styles
        merged = [span(m.decode()) for m in _MERGE.findall(xml, end)]
        self.excel_table = excel_table
        placement = self._place(body, table, path, merged, strings)
        self.widened = placement.widened
        self.columns = placement.columns
        self.new_columns = placement.new
        result_columns = set(self.columns.values())
        _check_formulas(body, result_columns, self.top)
        self.max_column = max(result_columns)
        self.min_result_column = min(result_columns)

    def _place(
        self,
        body: bytes,
        table: Table,
        path: Path,
        merged: list[Span],
        strings: SharedStrings,
    ) -> Placement:
        top = self.top
        known = table.first_column + len(table.header) - 1
        # Inside an Excel table, only its own rows matter: cells below it do not block it.
        bottom = self.excel_table.span[3] if self.excel_table else None
        last_used = max(
            [
                _last_used(body, known, top, bottom),
                *(r[2] for r in merged if r[3] >= top and (bottom is None or r[1] <= bottom)),
            ]
        )
        header_cells = self._header_cells(body)
        values = _header_values(header_cells, strings, last_used)
        try:
            facts = SheetFacts(
                values, last_used, merged, self.excel_table.span if self.excel_table else None
            )
            placement = place_columns(facts, table, path)
        except UncertainHeader as e:
            raise Unsupported(str(e)) from e
        self.header_style = self._styles.bold(_header_style(header_cells, table))
        return placement

    def _header_cells(self, body: bytes) -> dict[int, bytes]:
        for match in _ROW.finditer(body):
            number = _ROW_NUMBER.search(match[0], 0, match[0].find(b">"))
            if number and int(number[1]) == self.top:
                return {col: cell for col, cell in _cells(match[0])}
        raise Unsupported("the header row is not in the sheet XML")

    def rewrite(self, results: Mapping[int, Sequence[object]], cells: CellMaker) -> Iterator[bytes]:
        """The new sheet XML, in pieces: unchanged stretches are slices of the original."""
        xml = self.xml
        max_row = max([self.top, *results])
        yield self._head(max_row)
        pending = iter(sorted(results))
        next_row = next(pending, None)
        position = self.data_start
        for match in _ROW.finditer(xml, self.data_start, self.data_end):
            row_xml = match[0]
            number_match = _ROW_NUMBER.search(row_xml, 0, row_xml.find(b">"))
            assert number_match is not None  # checked in __init__
            number = int(number_match[1])
            while next_row is not None and next_row < number:
                yield xml[position : match.start()]
                position = match.start()
                yield _new_row(next_row, cells.row(next_row, results[next_row], {}))
                next_row = next(pending, None)
            if number == self.top and self.new_columns:
                changes = cells.header(self.top, self.new_columns)
            elif number == next_row:
                changes = None
            else:
                continue
            yield xml[position : match.start()]
            position = match.end()
            if changes is None:
                values = results[number]
                next_row = next(pending, None)
                if self._left_of_results(row_xml):
                    yield _append_cells(row_xml, cells.row(number, values, {}))
                    continue
                existing = dict(_cells(row_xml))
                changes = cells.row(number, values, existing)
            else:
                existing = dict(_cells(row_xml))
            yield _patch_row(row_xml, existing, changes)
        yield xml[position : self.data_end]
        while next_row is not None:
            yield _new_row(next_row, cells.row(next_row, results[next_row], {}))
            next_row = next(pending, None)
        yield xml[self.data_end :]

    def _left_of_results(self, row_xml: bytes) -> bool:
        """True if every cell of the row lies left of every result column (the common case)."""
        last = row_xml.rfind(b'<c r="')
        if last < 0 or b"<extLst" in row_xml:
            return False
        ref = _CELL_REF.match(row_xml, last)
        return ref is not None and column_number(ref[1]) < self.min_result_column

    def _head(self, max_row: int) -> bytes:
        head = self.xml[: self.data_start]
        dimension = _DIMENSION.search(head)
        if dimension:
            try:
                first_col, first_row, last_col, last_row = span(dimension[1].decode())
            except Unsupported:
                first_col = first_row = last_col = last_row = 1
            ref = (
                f"{column_letter(first_col)}{first_row}:"
                f"{column_letter(max(last_col, self.max_column))}{max(last_row, max_row)}"
            )
            head = (
                head[: dimension.start()]
                + b'<dimension ref="'
                + ref.encode()
                + b'"/>'
                + head[dimension.end() :]
            )
        return _widen_columns(head, self.new_columns)


def _check_references(body: bytes) -> None:
    rows = body.count(b"<row ") + body.count(b"<row>") + body.count(b"<row/>")
    numbers = [int(n) for n in re.findall(rb'<row\b[^>]*?\sr="(\d+)"', body)]
    if len(numbers) != rows:
        raise Unsupported("a row without r=")
    if any(a >= b for a, b in itertools.pairwise(numbers)):
        raise Unsupported("rows out of order")
    cells = body.count(b"<c ") + body.count(b"<c>") + body.count(b"<c/>")
    if body.count(b'<c r="') != cells:
        raise Unsupported("a cell without r= (as its first attribute)")


def _check_formulas(body: bytes, result_columns: set[int], top: int) -> None:
    """No formula may sit in, or span over, a result column: those cells get replaced."""
    if b"<f" not in body:
        return
    for letters, row, formula in _FORMULA_CELL.findall(body):
        col = column_number(letters)
        if col in result_columns and int(row) > top:
            raise Unsupported("a formula in a result column")
        spanned = _FORMULA_RANGE.search(formula)
        if spanned or b'"shared"' in formula:
            first, _, last, _ = span(spanned[1].decode()) if spanned else (col, 0, col, 0)
            if any(first <= c <= last for c in result_columns):
                raise Unsupported("a shared or array formula over a result column")


def _last_used(body: bytes, known: int, top: int, bottom: int | None) -> int:
    letters = set(re.findall(rb'<c r="([A-Z]{1,3})', body))
    if not letters or max(column_number(x) for x in letters) <= known:
        return known
    used = [
        col
        for letters_, row in _CONTENT_CELL.findall(body)
        if (col := column_number(letters_)) > known
        and int(row) >= top
        and (bottom is None or int(row) <= bottom)
    ]
    return max(used, default=known)


def _cells(row_xml: bytes) -> Iterator[tuple[int, bytes]]:
    for match in _CELL.finditer(row_xml):
        ref = _CELL_REF.match(match[0])
        if ref is None:
            raise Unsupported("a cell without r=")
        yield column_number(ref[1]), match[0]


def _header_values(
    cells: Mapping[int, bytes], strings: SharedStrings, last_used: int
) -> dict[int, object]:
    values: dict[int, object] = {}
    shared: dict[int, int] = {}
    for col, cell in cells.items():
        if col > last_used:
            continue
        tag_end = cell.find(b">")
        kind_match = _CELL_TYPE.search(cell, 0, tag_end)
        kind = kind_match[1] if kind_match else b"n"
        if cell[tag_end - 1 : tag_end] == b"/":
            continue
        inner = cell[tag_end + 1 :]
        value_match = _VALUE.search(inner)
        raw = unescape(value_match[1].decode()) if value_match else None
        if re.match(rb"\s*<f\b", inner):
            values[col] = FORMULA
        elif kind == b"s" and raw is not None:
            shared[col] = int(raw)
        elif kind == b"inlineStr":
            body = _PHONETIC.sub(b"", inner)
            values[col] = unescape(b"".join(_TEXT.findall(body)).decode())
        elif kind in (b"str", b"e") and raw is not None:
            values[col] = raw
        elif kind == b"b" and raw is not None:
            values[col] = raw.strip() in ("1", "true")
        elif raw is not None:
            values[col] = Uncertain(raw)
    texts = strings.texts(set(shared.values()))
    for col, index in shared.items():
        values[col] = texts[index]
    return values


def _header_style(cells: Mapping[int, bytes], table: Table) -> int:
    for i in range(len(table.header) - 1, -1, -1):
        if table.header[i]:
            cell = cells.get(table.first_column + i)
            style = CELL_STYLE.search(cell, 0, cell.find(b">")) if cell else None
            return int(style[1]) if style else 0
    return 0


def _patch_row(
    row_xml: bytes, existing: Mapping[int, bytes], changes: Mapping[int, bytes]
) -> bytes:
    tag_end = row_xml.find(b">")
    closed = row_xml[tag_end - 1 : tag_end] == b"/"
    opening = row_xml[: tag_end - 1] + b">" if closed else row_xml[: tag_end + 1]
    cells = {**existing, **changes}
    columns = sorted(cells)
    spans = _SPANS.search(opening)
    if spans:
        opening = (
            opening[: spans.start()]
            + b' spans="%d:%d"' % (columns[0], columns[-1])
            + opening[spans.end() :]
        )
    # Anything in the row besides cells (an extLst) stays, after them.
    rest = b"" if closed else _CELL.sub(b"", row_xml[tag_end + 1 : -len(b"</row>")]).strip()
    return opening + b"".join(cells[c] for c in columns) + rest + b"</row>"


def _append_cells(row_xml: bytes, cells: Mapping[int, bytes]) -> bytes:
    """Add cells right of all of a row's cells (a non-empty row, no extLst)."""
    tag_end = row_xml.find(b">")
    opening = row_xml[: tag_end + 1]
    new = [cells[c] for c in sorted(cells)]
    if not new:
        return row_xml
    spans = _SPANS.search(opening)
    if spans:
        first = _CELL_REF.match(row_xml, row_xml.find(b'<c r="'))
        assert first is not None  # the caller found a cell
        last = max(cells)
        opening = (
            opening[: spans.start()]
            + b' spans="%d:%d"' % (column_number(first[1]), last)
            + opening[spans.end() :]
        )
    return opening + row_xml[tag_end + 1 : -6] + b"".join(new) + b"</row>"


def _new_row(number: int, cells: Mapping[int, bytes]) -> bytes:
    return b'<row r="%d">' % number + b"".join(cells[c] for c in sorted(cells)) + b"</row>"


def _widen_columns(head: bytes, new_columns: Mapping[int, str]) -> bytes:
    """Add a <col> width for each new column not already covered by one."""
    if not new_columns:
        return head
    cols = _COLS.search(head)
    entries: list[tuple[int, bytes]] = []
    covered: list[tuple[int, int]] = []
    if cols:
        for element in _COL.findall(cols[1]):
            found = attrs(element.decode())
            low, high = int(found.get("min", "0")), int(found.get("max", "0"))
            covered.append((low, high))
            entries.append((low, element))
    for col, name in new_columns.items():
        if not any(low <= col <= high for low, high in covered):
            element = b'<col min="%d" max="%d" width="%d" customWidth="1"/>' % (
                col,
                col,
                WIDTHS[name],
            )
            entries.append((col, element))
    block = b"<cols>" + b"".join(e for _, e in sorted(entries, key=lambda e: e[0])) + b"</cols>"
    if cols:
        return head[: cols.start()] + block + head[cols.end() :]
    at = head.rfind(b"<sheetData>")
    return head[:at] + block + head[at:]
