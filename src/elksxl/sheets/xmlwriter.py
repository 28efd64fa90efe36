"""Write send results by patching the workbook's zip directly, without loading it into a library.

:class:`XmlResultWriter` never builds the workbook in memory: a save copies every zip entry
unchanged except the target sheet's XML (see :mod:`~elksxl.sheets.xmlsheet`), ``xl/styles.xml``
when cell formats must be added (:mod:`~elksxl.sheets.xmlstyles`), and the parts that hold the
campaign id (:mod:`~elksxl.sheets.docprops`). Every other cell keeps its exact XML, so formulas
keep their cached values and nothing openpyxl cannot represent is lost. Result columns are
placed by the rule the openpyxl writer uses (:mod:`~elksxl.sheets.columns`).

Anything this package does not understand (rows or cells without ``r=``, prefixed sheet XML,
formulas in result columns, ...) raises :class:`~elksxl.sheets.xmlparts.Unsupported` while
opening; :func:`open_writer` then returns the openpyxl writer instead. Each save patches the
bytes read when the writer was opened, with every result set so far.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Final
from xml.etree import ElementTree

from ..table import RESULT_COLUMNS, Table
from .docprops import campaign_parts
from .files import check_workbook_file, damaged
from .layout import outside_table, read_excel_table, table_of, widen_table_xml
from .saving import WorkbookWriter
from .writer import ResultWriter
from .xmlcells import CellMaker
from .xmlparts import SharedStrings, Unsupported, locate
from .xmlsheet import SheetPlan
from .xmlstyles import Styles

__all__ = ["XmlResultWriter", "open_writer"]

# zipfile writes a ZIP64 header only when told the entry may exceed this (as Excel does).
_ZIP64_LIMIT: Final = zipfile.ZIP64_LIMIT
_CELL_OVERHEAD: Final = 200  # bytes of XML around one result cell's value, generously


def open_writer(path: Path, table: Table) -> WorkbookWriter:
    """The XML writer when it handles the workbook, else the openpyxl :class:`ResultWriter`."""
    try:
        return XmlResultWriter(path, table)
    except Unsupported:
        return ResultWriter(path, table)


class XmlResultWriter(WorkbookWriter):
    """Writes result cells by rewriting one sheet's XML inside the zip; saves atomically.

    Holds the workbook file's bytes as read when opened and every result set so far; each save
    writes those bytes with all results applied.
    """

    def __init__(self, path: Path, table: Table) -> None:
        super().__init__(path, table.header_row)
        check_workbook_file(self.path)
        self._original = self.path.read_bytes()
        self._results: dict[int, list[object]] = {}
        try:
            with zipfile.ZipFile(io.BytesIO(self._original)) as archive:
                self._parts = locate(archive, table.sheet, self.path)
                sheet_xml = archive.read(self._parts.sheet)
                self._styles = Styles(archive.read(self._parts.styles).decode("utf-8"))
                strings = SharedStrings(archive, self._parts.strings)
                tables = [read_excel_table(archive.read(p), p) for p in self._parts.tables]
                self._excel_table = table_of(tables, table)
                self._plan = SheetPlan(
                    sheet_xml, table, self.path, self._styles, strings, self._excel_table
                )
        except (
            zipfile.BadZipFile,
            KeyError,
            EOFError,
            OSError,
            ValueError,
            ElementTree.ParseError,
        ) as e:
            raise damaged(self.path, e) from e
        self._columns = self._plan.columns
        self._warnings = outside_table(
            self._excel_table, self._plan.widened, self._plan.new_columns
        )

    def _put(self, row: int, values: tuple[object, ...]) -> None:
        merged = self._results.setdefault(row, [None] * len(RESULT_COLUMNS))
        for i, value in enumerate(values):
            if isinstance(value, datetime):
                value = _local(value)
            if value is not None:
                merged[i] = value

    def _write(self, out: BinaryIO) -> None:
        styles = self._styles.copy()
        cells = CellMaker(self._plan.columns, self._plan.header_style, styles, self._parts.date1904)
        sheet_done = False
        deferred: zipfile.ZipInfo | None = None
        with (
            zipfile.ZipFile(io.BytesIO(self._original)) as src,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            replaced = self._replaced_parts(src)
            for info in src.infolist():
                if info.filename == self._parts.sheet:
                    self._write_sheet(dst, info, cells)
                    sheet_done = True
                    if deferred is not None:
                        _write_styles(src, dst, deferred, styles)
                elif info.filename == self._parts.styles and not sheet_done:
                    # New formats are known once the sheet is written; zip order is free.
                    deferred = info
                elif info.filename == self._parts.styles:
                    _write_styles(src, dst, info, styles)
                elif info.filename in replaced:
                    dst.writestr(_fresh_info(info), replaced.pop(info.filename))
                else:
                    dst.writestr(info, src.read(info))
            for name, data in replaced.items():  # parts the workbook did not have
                dst.writestr(_fresh_info(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))), data)

    def _replaced_parts(self, src: zipfile.ZipFile) -> dict[str, bytes]:
        """Parts other than the sheet and styles to replace or add: the Excel table widened
        for the result columns, and the campaign id's."""
        replaced: dict[str, bytes] = {}
        excel_table, widened = self._excel_table, self._plan.widened
        if excel_table is not None and widened is not None and widened != excel_table.span:
            names = [self._plan.new_columns[c] for c in sorted(self._plan.new_columns)]
            xml = src.read(excel_table.part)
            replaced[excel_table.part] = widen_table_xml(xml, excel_table, widened, names)
        changed, campaign_id = self._campaign
        if changed:
            present = set(src.namelist())

            def read(name: str) -> bytes | None:
                return src.read(name) if name in present else None

            replaced.update(campaign_parts(read, campaign_id))
        return replaced

    def _write_sheet(self, dst: zipfile.ZipFile, info: zipfile.ZipInfo, cells: CellMaker) -> None:
        entry = _fresh_info(info)
        # zipfile decides on a ZIP64 header from the announced size; an upper bound keeps it
        # off for every sheet that fits a plain zip entry, as in the files Excel writes.
        entry.file_size = _size_bound(len(self._plan.xml), self._results)
        zip64 = entry.file_size * 1.05 > _ZIP64_LIMIT
        with dst.open(entry, "w", force_zip64=zip64) as stream:
            for chunk in _chunks(self._plan.rewrite(self._results, cells)):
                stream.write(chunk)


def _size_bound(original: int, results: Mapping[int, Sequence[object]]) -> int:
    """More bytes than the rewritten sheet can take: each text character escapes to <= 6."""
    added = 2_000 + _CELL_OVERHEAD * len(RESULT_COLUMNS)  # new headers and column widths
    for values in results.values():
        added += _CELL_OVERHEAD * len(values)
        added += sum(6 * len(v) for v in values if isinstance(v, str))
    return original + added


def _chunks(pieces: Iterator[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """Join small pieces: each write to a zip entry has a fixed cost."""
    batch: list[bytes] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(batch)
            batch.clear()
            length = 0
    yield b"".join(batch)


def _write_styles(
    src: zipfile.ZipFile, dst: zipfile.ZipFile, info: zipfile.ZipInfo, styles: Styles
) -> None:
    rendered = styles.render()
    if rendered is None:
        dst.writestr(info, src.read(info))
    else:
        dst.writestr(_fresh_info(info), rendered)


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = zipfile.ZIP_DEFLATED
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    return copy


def _local(value: datetime) -> datetime:
    # Excel has no time zones: the local wall-clock time, to the second.
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.replace(microsecond=0)
