"""The XML of result cells: inline text (never a formula), numbers, Excel date-time serials.

Formats follow the openpyxl writer's rules: a new cell gets its column's format, an existing
cell keeps a format the user chose unless it cannot show the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from ..table import RESULT_COLUMNS
from .columns import COST_FORMAT, ILLEGAL, MAX_TEXT, TIME_FORMAT
from .files import column_letter
from .xmlstyles import Styles, escape

__all__ = ["CELL_STYLE", "CellMaker", "text_cell"]

CELL_STYLE: Final = re.compile(rb'\ss="(\d+)"')
# Text that needs more than encoding: illegal or escaped characters, edge spaces, empty.
_SPECIAL: Final = re.compile(
    "^$|^\\s|\\s$|[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)


class CellMaker:
    """Builds the XML of result cells, choosing their cell formats as the openpyxl writer does."""

    def __init__(
        self, columns: Mapping[str, int], header_style: int, styles: Styles, date1904: bool
    ) -> None:
        self._styles = styles
        self._header_style = header_style
        self._columns = [
            (col, column_letter(col).encode()) for col in (columns[n] for n in RESULT_COLUMNS)
        ]
        self._epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
        self._fresh_cost: int | None = None
        self._fresh_time: int | None = None
        self._derived: dict[tuple[int, str], int] = {}

    def header(self, top: int, new_columns: Mapping[int, str]) -> dict[int, bytes]:
        top_cells = {}
        for col, name in new_columns.items():
            ref = f"{column_letter(col)}{top}".encode()
            top_cells[col] = text_cell(ref, name, self._header_style)
        return top_cells

    def row(
        self, number: int, values: Sequence[object], existing: Mapping[int, bytes]
    ) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        suffix = b"%d" % number
        for i, ((col, letters), value) in enumerate(zip(self._columns, values, strict=True)):
            if value is None:
                continue
            old = existing.get(col) if existing else None
            style: int | None = None
            if old is not None:
                found = CELL_STYLE.search(old, 0, old.find(b">"))
                style = int(found[1]) if found else 0
            ref = letters + suffix
            if i in (0, 1, 4):
                out[col] = text_cell(ref, str(value), style)
            elif i == 2:
                out[col] = _value_cell(ref, style, str(int(value)))  # type: ignore[call-overload]
            elif i == 3:
                out[col] = self._cost(ref, style, value)
            else:
                assert isinstance(value, datetime)
                out[col] = self._moment(ref, style, value)
        return out

    def _cost(self, ref: bytes, style: int | None, value: object) -> bytes:
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            return text_cell(ref, str(value), style)
        if style is None:
            if self._fresh_cost is None:
                self._fresh_cost = self._styles.with_format(None, COST_FORMAT)
            style = self._fresh_cost
        elif self._styles.is_general(style):
            style = self._derive(style, COST_FORMAT)
        return _value_cell(ref, style, repr(number))

    def _moment(self, ref: bytes, style: int | None, value: datetime) -> bytes:
        if style is None:
            if self._fresh_time is None:
                self._fresh_time = self._styles.with_format(None, TIME_FORMAT)
            style = self._fresh_time
        elif not self._styles.is_date(style):
            style = self._derive(style, TIME_FORMAT)
        delta = value - self._epoch
        serial = delta.days + delta.seconds / 86400
        return _value_cell(ref, style, repr(serial))

    def _derive(self, style: int, code: str) -> int:
        key = (style, code)
        if key not in self._derived:
            self._derived[key] = self._styles.with_format(style, code)
        return self._derived[key]


def _style_attr(style: int | None) -> bytes:
    return b' s="%d"' % style if style else b""


def text_cell(ref: bytes, value: str, style: int | None) -> bytes:
    if len(value) > MAX_TEXT or _SPECIAL.search(value):
        text = ILLEGAL.sub("", value)[:MAX_TEXT]
        if not text:
            return b'<c r="' + ref + b'"' + _style_attr(style) + b"/>"
        space = ' xml:space="preserve"' if text != text.strip() else ""
        escaped = escape(text).replace("\r", "&#13;")
        body = f' t="inlineStr"><is><t{space}>{escaped}</t></is></c>'.encode()
    else:
        body = b' t="inlineStr"><is><t>' + value.encode() + b"</t></is></c>"
    return b'<c r="' + ref + b'"' + (b' s="%d"' % style if style else b"") + body


def _value_cell(ref: bytes, style: int | None, value: str) -> bytes:
    return b'<c r="' + ref + b'"' + _style_attr(style) + b"><v>" + value.encode() + b"</v></c>"
