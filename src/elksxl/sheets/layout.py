"""What a sheet's values do not tell: hidden rows, Excel tables (ListObjects), the campaign id.

python-calamine reads values only, so these come straight from the package: the sheet XML is
streamed for ``<row hidden="1">`` (cheap even for 100,000 rows), and each Excel table's part
(xl/tables/tableN.xml) says where its header, data and totals rows are. :func:`widen_table_xml`
is how the XML writer makes the result columns part of a table.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final
from xml.etree import ElementTree

from ..table import Table
from .columns import Span, fold
from .docprops import read_campaign_id
from .files import column_letter
from .xmlparts import MAIN_NS, Unsupported, locate, span

__all__ = [
    "ExcelTable",
    "SheetLayout",
    "outside_table",
    "read_excel_table",
    "read_layout",
    "table_of",
    "widen_table_xml",
]

# A whole hidden row (or its start, when its end lies in the next block).
_HIDDEN_ROW: Final = re.compile(rb'<row\b[^>]*?\shidden="(?:1|true)"[^>]*?(/?)>')
_ROW_NUMBER: Final = re.compile(rb'\sr="(\d+)"')
_ROW_END: Final = re.compile(rb"</row>")
_HAS_VALUE: Final = re.compile(rb"<v>|<is>")
_BLOCK: Final = 1 << 20


@dataclass(frozen=True)
class ExcelTable:
    """One Excel table: its name, cell range and how many header and totals rows it has."""

    name: str
    part: str
    span: Span
    header_rows: int = 1
    totals_rows: int = 0

    @property
    def header_row(self) -> int:
        return self.span[1]

    @property
    def last_data_row(self) -> int:
        return self.span[3] - self.totals_rows

    @property
    def ref(self) -> str:
        first_col, first_row, last_col, last_row = self.span
        return f"{column_letter(first_col)}{first_row}:{column_letter(last_col)}{last_row}"


@dataclass(frozen=True)
class SheetLayout:
    """Rows hidden on the sheet (those holding values), its Excel tables, the campaign id."""

    hidden: frozenset[int] = frozenset()
    tables: tuple[ExcelTable, ...] = ()
    campaign_id: str | None = None


def read_layout(path: Path, sheet: str) -> SheetLayout:
    """The layout of ``sheet`` in the workbook at ``path``.

    A package laid out in a way this module does not know reads as no hidden rows and no tables.
    """
    with zipfile.ZipFile(path) as archive:
        campaign_id = read_campaign_id(archive)
        try:
            parts = locate(archive, sheet, path)
            tables = tuple(read_excel_table(archive.read(p), p) for p in parts.tables)
            with archive.open(parts.sheet) as stream:
                hidden = frozenset(_hidden_rows(stream))
        except (Unsupported, ElementTree.ParseError, ValueError, KeyError):
            return SheetLayout(campaign_id=campaign_id)
    return SheetLayout(hidden, tables, campaign_id)


def _hidden_rows(stream: IO[bytes]) -> list[int]:
    found: list[int] = []
    tail = b""
    while block := stream.read(_BLOCK):
        data = tail + block
        # Look only at whole rows: keep everything from the last row start for the next block.
        cut = data.rfind(b"<row")
        cut = max(0, len(data) - 16) if cut < 0 else cut
        tail = data[cut:]
        if b"hidden" in data[:cut]:
            _scan(data[:cut], found)
    if b"hidden" in tail:
        _scan(tail, found)
    return found


def _scan(data: bytes, found: list[int]) -> None:
    for match in _HIDDEN_ROW.finditer(data):
        if match[1]:  # <row .../>: nothing in it
            continue
        number = _ROW_NUMBER.search(match[0])
        end = _ROW_END.search(data, match.end())
        body = data[match.end() : end.start() if end else len(data)]
        if number and _HAS_VALUE.search(body):
            found.append(int(number[1]))


def table_of(tables: Sequence[ExcelTable], table: Table) -> ExcelTable | None:
    """The Excel table ``table`` was read from (same header row and first column), if any."""
    for candidate in tables:
        if candidate.header_rows and (candidate.span[0], candidate.span[1]) == (
            table.first_column,
            table.header_row,
        ):
            return candidate
    return None


def outside_table(
    excel_table: ExcelTable | None, widened: Span | None, new: Mapping[int, str]
) -> tuple[str, ...]:
    """The warning for result columns that could not join the sheet's Excel table."""
    if excel_table is None or widened is not None or not new:
        return ()
    first = column_letter(min(new))
    return (
        f"the result columns start at column {first}, outside the Excel table "
        f"{excel_table.name!r}, because cells right of the table are used: sorting or "
        "filtering the table will not move the results with their rows",
    )


def read_excel_table(xml: bytes, part: str) -> ExcelTable:
    """The ExcelTable a table part describes."""
    root = ElementTree.fromstring(xml)
    if root.tag != f"{{{MAIN_NS}}}table":
        raise Unsupported("a table part that is not a SpreadsheetML table")
    return ExcelTable(
        name=root.get("displayName") or root.get("name") or part,
        part=part,
        span=span(root.get("ref", "")),
        header_rows=int(root.get("headerRowCount", "1")),
        totals_rows=int(root.get("totalsRowCount", "0")),
    )


def widen_table_xml(xml: bytes, table: ExcelTable, widened: Span, names: Sequence[str]) -> bytes:
    """The table part with its range widened to ``widened`` and ``names`` as new columns.

    The autofilter follows the range (without the totals row); new columns get the next free
    ids and names not already used in the table (Excel requires both to be unique).
    """
    text = xml.decode("utf-8")
    new = ExcelTable(table.name, table.part, widened, table.header_rows, table.totals_rows)
    text = re.sub(r'(<table\b[^>]*?\sref=")[^"]*"', rf'\g<1>{new.ref}"', text, count=1)
    last_filter = widened[3] - table.totals_rows
    filter_ref = f"{new.ref.split(':')[0]}:{column_letter(widened[2])}{last_filter}"
    text = re.sub(r'(<autoFilter\b[^>]*?\sref=")[^"]*"', rf'\g<1>{filter_ref}"', text, count=1)
    root = ElementTree.fromstring(xml)
    columns = root.find(f"{{{MAIN_NS}}}tableColumns")
    if columns is None:
        raise Unsupported("a table without tableColumns")
    ids = [int(c.get("id", "0")) for c in columns]
    taken = {fold(c.get("name", "")) for c in columns}
    added = []
    for i, name in enumerate(names, start=max([0, *ids]) + 1):
        unique, n = name, 2
        while fold(unique) in taken:
            unique, n = f"{name} {n}", n + 1
        taken.add(fold(unique))
        added.append(f'<tableColumn id="{i}" name="{_escape(unique)}"/>')
    count = len(ids) + len(added)
    text = re.sub(r'(<tableColumns\b[^>]*?\scount=")\d+"', rf'\g<1>{count}"', text, count=1)
    at = text.index("</tableColumns>")
    return (text[:at] + "".join(added) + text[at:]).encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
