"""Write send results by patching the workbook's zip directly, without loading it into a library.

:class:`XmlResultWriter` has the interface of :class:`~elksxl.sheets.writer.ResultWriter` (it
reuses its save, lock-file and fallback logic) but never builds the workbook in memory: a save
copies every zip entry unchanged except the target sheet's XML (and ``xl/styles.xml`` when cell
formats must be added), and streams the sheet XML through, rewriting only the rows that get
results. Every other cell keeps its exact XML, so formulas keep their cached values and nothing
openpyxl cannot represent is lost.

Result columns are placed exactly as :func:`elksxl.sheets.columns.place_columns` places them.
Text is written as inline strings (never a formula), numbers as numbers, date-times as Excel
serial numbers with a date-time format.

Anything this module does not understand (rows or cells without ``r=``, prefixed sheet XML,
formulas in result columns, ...) raises the internal :class:`_Unsupported` while opening;
:func:`open_writer` then returns the openpyxl writer instead. Each save patches the bytes read
when the writer was opened, with every result set so far.
"""

from __future__ import annotations

import io
import itertools
import math
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import BinaryIO, Final
from xml.etree import ElementTree

from ..errors import WorkbookError
from ..table import RESULT_COLUMNS, Table
from .files import atomic_save, check_workbook_file, column_letter, damaged, header_changed
from .reader import header_text
from .writer import ResultWriter, RowResult, _stamp

__all__ = ["XmlResultWriter", "open_writer"]

# Mirrors of elksxl.sheets.columns (which imports openpyxl); a test keeps them equal.
COST_FORMAT: Final = "0.00##"
TIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
WIDTHS: Final = {
    "SMS status": 11,
    "SMS id": 36,
    "SMS parts": 10,
    "SMS cost": 10,
    "SMS error": 40,
    "SMS sent at": 20,
    "SMS delivered at": 20,
}
_MAX_TEXT: Final = 32_767
# What XML 1.0 cannot carry: the control characters openpyxl refuses, lone surrogates, U+FFFE/F.
_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Text that needs more than encoding: illegal or escaped characters, edge spaces, empty.
_SPECIAL: Final = re.compile(
    "^$|^\\s|\\s$|[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)
_MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"

_ROW: Final = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ROW_NUMBER: Final = re.compile(rb'\sr="(\d+)"')
_CELL: Final = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_CELL_REF: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_CELL_STYLE: Final = re.compile(rb'\ss="(\d+)"')
_CELL_TYPE: Final = re.compile(rb'\st="(\w+)"')
_CONTENT_CELL: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>(?!</c>)')
_FORMULA_CELL: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)><f\b([^>]*)')
_FORMULA_RANGE: Final = re.compile(rb'\st="(?:shared|array|dataTable)"[^>]*?\sref="([^"]+)"')
_MERGE: Final = re.compile(rb'<mergeCell\s+ref="([^"]+)"')
_DIMENSION: Final = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_COLS: Final = re.compile(rb"<cols>(.*?)</cols>", re.S)
_COL: Final = re.compile(rb"<col\b[^>]*?(?:/>|>.*?</col>)", re.S)
_SPANS: Final = re.compile(rb'\sspans="[^"]*"')
_REF: Final = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
_TEXT: Final = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_PHONETIC: Final = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_VALUE: Final = re.compile(rb"<v>(.*?)</v>", re.S)
_ATTR: Final = re.compile(r'([\w:]+)="([^"]*)"')


class _Unsupported(Exception):
    """The workbook has something the XML writer does not handle; use the openpyxl writer."""


def open_writer(path: Path, table: Table) -> ResultWriter:
    """The XML writer when it handles the workbook, else the openpyxl :class:`ResultWriter`."""
    try:
        return XmlResultWriter(path, table)
    except _Unsupported:
        return ResultWriter(path, table)


class XmlResultWriter(ResultWriter):
    """Writes result cells by rewriting one sheet's XML inside the zip; saves atomically.

    Holds the workbook file's bytes as read when opened and every result set so far; each save
    writes those bytes with all results applied.
    """

    def __init__(self, path: Path, table: Table) -> None:
        self.path = Path(path)
        self._header_row = table.header_row
        self._stamp = _stamp(self.path)
        check_workbook_file(self.path)
        self._original = self.path.read_bytes()
        self._warnings: tuple[str, ...] = ()
        self._target = self.path
        self._reason: str | None = None
        self._results: dict[int, list[object]] = {}
        try:
            with zipfile.ZipFile(io.BytesIO(self._original)) as archive:
                parts = _locate(archive, table, self.path)
                sheet_xml = archive.read(parts.sheet)
                styles = _Styles(archive.read(parts.styles).decode("utf-8"))
                strings = _SharedStrings(archive, parts.strings)
                self._plan = _SheetPlan(sheet_xml, table, self.path, styles, strings)
        except (
            zipfile.BadZipFile,
            KeyError,
            EOFError,
            OSError,
            ValueError,
            ElementTree.ParseError,
        ) as e:
            raise damaged(self.path, e) from e
        self._parts = parts
        self._styles = styles
        self._date1904 = parts.date1904
        self._columns = self._plan.columns

    def set(self, row: int, result: RowResult) -> None:
        """Remember ``result`` for Excel row ``row`` (None = leave as is); written on save."""
        if row <= self._header_row:
            raise ValueError(f"row {row} is not below the header row {self._header_row}")
        values = (
            result.status,
            result.sms_id,
            result.parts,
            result.cost,
            result.error,
            _local(result.sent_at),
            _local(result.delivered_at),
        )
        merged = self._results.setdefault(row, [None] * len(RESULT_COLUMNS))
        for i, value in enumerate(values):
            if value is not None:
                merged[i] = value

    def _save_to(self, target: Path) -> None:
        real, mode = self._real_target(target)
        atomic_save(self._write_zip, real, mode=mode)
        if target == self.path:
            self._stamp = _stamp(target)

    def _write_zip(self, out: BinaryIO) -> None:
        styles = self._styles.copy()
        cells = _CellMaker(self._plan, styles, self._date1904)
        sheet_done = False
        deferred: zipfile.ZipInfo | None = None
        with (
            zipfile.ZipFile(io.BytesIO(self._original)) as src,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for info in src.infolist():
                if info.filename == self._parts.sheet:
                    with dst.open(_fresh_info(info), "w", force_zip64=True) as stream:
                        for chunk in _chunks(self._plan.rewrite(self._results, cells)):
                            stream.write(chunk)
                    sheet_done = True
                    if deferred is not None:
                        _write_styles(src, dst, deferred, styles)
                elif info.filename == self._parts.styles and not sheet_done:
                    # New formats are known once the sheet is written; zip order is free.
                    deferred = info
                elif info.filename == self._parts.styles:
                    _write_styles(src, dst, info, styles)
                else:
                    dst.writestr(info, src.read(info))


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
    src: zipfile.ZipFile, dst: zipfile.ZipFile, info: zipfile.ZipInfo, styles: _Styles
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


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: the local wall-clock time, to the second.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.replace(microsecond=0)


# -- where things are in the package --------------------------------------------------------


class _Parts:
    def __init__(self, sheet: str, styles: str, strings: str | None, date1904: bool) -> None:
        self.sheet = sheet
        self.styles = styles
        self.strings = strings
        self.date1904 = date1904


def _locate(archive: zipfile.ZipFile, table: Table, path: Path) -> _Parts:
    """Sheet name -> r:id (xl/workbook.xml) -> part name (xl/_rels/workbook.xml.rels)."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        raise _Unsupported("the workbook part is not xl/workbook.xml")
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    if book.tag != f"{{{_MAIN_NS}}}workbook":
        raise _Unsupported("not a transitional SpreadsheetML workbook")
    pr = book.find(f"{{{_MAIN_NS}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    sheets = [
        (s.get("name", ""), s.get(f"{{{_REL_NS}}}id", ""))
        for s in book.iter(f"{{{_MAIN_NS}}}sheet")
    ]
    rels = {}
    for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")):
        if rel.tag == f"{{{_PKG_NS}}}Relationship" and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            rels[rel.get("Id", "")] = (
                rel.get("Type", "").rsplit("/", 1)[-1],
                posixpath.normpath(part),
            )
    ids = dict(sheets)
    if table.sheet not in ids:
        listed = ", ".join(repr(n) for n, _ in sheets)
        raise WorkbookError(
            f"there is no sheet named {table.sheet!r}; the sheets are: {listed}", file=str(path)
        )
    kind, sheet = rels.get(ids[table.sheet], ("", ""))
    if kind == "chartsheet":
        raise WorkbookError("this is a chart sheet, not a sheet with cells", file=str(path))
    styles = [part for kind, part in rels.values() if kind == "styles"]
    strings = [part for kind, part in rels.values() if kind == "sharedStrings"]
    if kind != "worksheet" or sheet not in names or len(styles) != 1 or styles[0] not in names:
        raise _Unsupported("sheet or styles part not found")
    return _Parts(
        sheet, styles[0], strings[0] if strings and strings[0] in names else None, date1904
    )


class _SharedStrings:
    """The shared strings the header row needs, read lazily and only up to the last one asked."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None) -> None:
        self._archive = archive
        self._name = name

    def texts(self, wanted: set[int]) -> dict[int, str]:
        if not wanted:
            return {}
        if self._name is None:
            raise _Unsupported("a shared string without a shared string table")
        found: dict[int, str] = {}
        last = max(wanted)
        index = -1
        with self._archive.open(self._name) as stream:
            for _, element in ElementTree.iterparse(stream, events=("end",)):
                if element.tag != f"{{{_MAIN_NS}}}si":
                    continue
                index += 1
                if index in wanted:
                    found[index] = _si_text(element)
                element.clear()
                if index >= last:
                    break
        if len(found) != len(wanted):
            raise _Unsupported("a shared string index beyond the table")
        return found


def _si_text(si: ElementTree.Element) -> str:
    parts = []
    for child in si:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child.iter(f"{{{_MAIN_NS}}}t"))
    return "".join(parts)


# -- styles ---------------------------------------------------------------------------------

_BUILTIN_DATES: Final = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_NUMFMTS: Final = re.compile(r"<numFmts\b[^>]*?(?:/>|>(.*?)</numFmts>)", re.S)
_NUMFMT: Final = re.compile(r"<numFmt\b[^>]*?/>|<numFmt\b[^>]*>.*?</numFmt>", re.S)
_FONTS: Final = re.compile(r"<fonts\b[^>]*>(.*?)</fonts>", re.S)
_FONT: Final = re.compile(r"<font\b[^>]*?(?:/>|>.*?</font>)", re.S)
_XFS: Final = re.compile(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF: Final = re.compile(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)
_BOLD: Final = re.compile(r'<b(?:\s+val="(\w+)")?\s*/>')


class _Styles:
    """Number formats, fonts and cell formats of styles.xml; appends new ones as text."""

    def __init__(self, xml: str) -> None:
        if re.search(r"<\w+:styleSheet\b", xml) or "<styleSheet" not in xml:
            raise _Unsupported("prefixed or missing styleSheet")
        fonts, xfs = _FONTS.search(xml), _XFS.search(xml)
        if fonts is None or xfs is None:
            raise _Unsupported("styles without fonts or cellXfs")
        self.xml = xml
        numfmts = _NUMFMTS.search(xml)
        self.numfmts: list[str] = _NUMFMT.findall(numfmts[1] or "") if numfmts else []
        self.fonts: list[str] = _FONT.findall(fonts[1])
        self.xfs: list[str] = _XF.findall(xfs[1])
        self._codes = {}
        for element in self.numfmts:
            attrs = _attrs(element)
            self._codes[int(attrs.get("numFmtId", "-1"))] = unescape(attrs.get("formatCode", ""))
        self.added = False

    def copy(self) -> _Styles:
        other = object.__new__(_Styles)
        other.__dict__.update(self.__dict__)
        other.numfmts, other.fonts, other.xfs = list(self.numfmts), list(self.fonts), list(self.xfs)
        other._codes = dict(self._codes)
        return other

    def _xf(self, index: int) -> dict[str, str]:
        if not 0 <= index < len(self.xfs):
            raise _Unsupported(f"cell style {index} does not exist")
        return _attrs(self.xfs[index])

    def number_format(self, index: int) -> int:
        return int(self._xf(index).get("numFmtId", "0"))

    def is_general(self, index: int) -> bool:
        fmt = self.number_format(index)
        return fmt == 0 or self._codes.get(fmt, "").lower() == "general"

    def is_date(self, index: int) -> bool:
        fmt = self.number_format(index)
        if fmt in _BUILTIN_DATES:
            return True
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", self._codes.get(fmt, ""))
        return bool(re.search(r"[dmyhs]", code, re.I))

    def bold(self, index: int) -> int:
        """A cell format like ``index`` whose font is bold (``index`` itself if it is)."""
        font_id = int(self._xf(index).get("fontId", "0"))
        if not 0 <= font_id < len(self.fonts):
            raise _Unsupported(f"font {font_id} does not exist")
        font = self.fonts[font_id]
        mark = _BOLD.search(font)
        if mark and (mark[1] or "1").lower() in ("1", "true"):
            return index
        font = _BOLD.sub("", font)
        if font.endswith("/>") and font[:5] == "<font" and ">" not in font[:-2]:
            font = font[:-2].rstrip() + "><b/></font>"
        else:
            start = font.index(">") + 1
            font = font[:start] + "<b/>" + font[start:]
        new_font = self._add(self.fonts, font)
        xf = _set_attrs(self.xfs[index], fontId=str(new_font), applyFont="1")
        return self._add(self.xfs, xf)

    def with_format(self, index: int | None, code: str) -> int:
        """A cell format like ``index`` (a new, plain one if None) showing numbers as ``code``."""
        fmt = self._format_id(code)
        if index is None:
            xf = (
                f'<xf numFmtId="{fmt}" fontId="0" fillId="0" borderId="0" xfId="0"'
                ' applyNumberFormat="1"/>'
            )
        else:
            self._xf(index)
            xf = _set_attrs(self.xfs[index], numFmtId=str(fmt), applyNumberFormat="1")
        return self._add(self.xfs, xf)

    def _format_id(self, code: str) -> int:
        for fmt, known in self._codes.items():
            if known == code:
                return fmt
        fmt = max([163, *self._codes]) + 1
        self._codes[fmt] = code
        self.numfmts.append(f'<numFmt numFmtId="{fmt}" formatCode="{_escape(code, quote=True)}"/>')
        self.added = True
        return fmt

    def _add(self, elements: list[str], element: str) -> int:
        # The same element again (from an earlier run) is reused, so formats do not pile up.
        if element in elements:
            return elements.index(element)
        elements.append(element)
        self.added = True
        return len(elements) - 1

    def render(self) -> bytes | None:
        """The new styles.xml, or None when nothing was added."""
        if not self.added:
            return None
        xml = _replace_section(self.xml, _FONTS, "fonts", self.fonts)
        xml = _replace_section(xml, _XFS, "cellXfs", self.xfs)
        numfmts = f'<numFmts count="{len(self.numfmts)}">{"".join(self.numfmts)}</numFmts>'
        if _NUMFMTS.search(xml):
            xml = _NUMFMTS.sub(lambda _: numfmts, xml, count=1)
        elif self.numfmts:
            opening = re.search(r"<styleSheet\b[^>]*>", xml)
            assert opening is not None  # checked in __init__
            xml = xml[: opening.end()] + numfmts + xml[opening.end() :]
        return xml.encode("utf-8")


def _replace_section(xml: str, pattern: re.Pattern[str], name: str, elements: list[str]) -> str:
    match = pattern.search(xml)
    assert match is not None  # checked in __init__
    opening = xml[match.start() : xml.index(">", match.start()) + 1]
    opening = _set_attrs(opening, count=str(len(elements)))
    return xml[: match.start()] + opening + "".join(elements) + f"</{name}>" + xml[match.end() :]


def _attrs(element: str) -> dict[str, str]:
    return dict(_ATTR.findall(element[: element.index(">") + 1]))


def _set_attrs(element: str, **values: str) -> str:
    end = element.index(">")
    if element[end - 1] == "/":
        end -= 1
    tag = element[:end]
    for name, value in values.items():
        new, count = re.subn(rf'(\s{name}=)"[^"]*"', rf'\1"{value}"', tag)
        tag = new if count else f'{tag.rstrip()} {name}="{value}"'
    return tag + element[end:]


def _escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


# -- the sheet ------------------------------------------------------------------------------


def _column_number(letters: bytes | str) -> int:
    number = 0
    for char in letters if isinstance(letters, str) else letters.decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number


def _range(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of "A1" or "A1:C3"."""
    corners = [_REF.fullmatch(part.strip()) for part in ref.split(":")]
    if not corners or len(corners) > 2 or any(c is None for c in corners):
        raise _Unsupported(f"cell range {ref!r}")
    cols = [_column_number(c[1]) for c in corners if c]
    rows = [int(c[2]) for c in corners if c]
    return min(cols), min(rows), max(cols), max(rows)


class _SheetPlan:
    """One sheet's XML split into head, rows and tail, with the result columns decided."""

    def __init__(
        self, xml: bytes, table: Table, path: Path, styles: _Styles, strings: _SharedStrings
    ) -> None:
        root = re.search(rb"<(?:(\w+):)?worksheet\b([^>]*)>", xml)
        if root is None or root[1] or _MAIN_NS.encode() not in root[2]:
            raise _Unsupported("prefixed or non-transitional sheet XML")
        start, end = xml.find(b"<sheetData>"), xml.find(b"</sheetData>")
        if start < 0 or end < start:
            raise _Unsupported("no <sheetData> with rows")
        self.xml = xml
        self.data_start, self.data_end = start + len(b"<sheetData>"), end
        data = memoryview(xml)[self.data_start : self.data_end]
        body = bytes(data)
        _check_references(body)
        self.top = table.header_row
        self._styles = styles
        merged = [_range(m.decode()) for m in _MERGE.findall(xml, end)]
        self.columns = self._place(body, table, path, merged, strings)
        self.by_column = {col: i for i, col in enumerate(self.columns[n] for n in RESULT_COLUMNS)}
        _check_formulas(body, set(self.by_column), self.top)
        self.max_column = max(self.by_column)
        self.min_result_column = min(self.by_column)

    def _place(
        self,
        body: bytes,
        table: Table,
        path: Path,
        merged: list[tuple[int, int, int, int]],
        strings: _SharedStrings,
    ) -> dict[str, int]:
        """Mirror of columns.place_columns, on the sheet XML."""
        top = self.top
        known = table.first_column + len(table.header) - 1
        last_used = max([_last_used(body, known, top), *(r[2] for r in merged if r[3] >= top)])
        header_cells = self._header_cells(body)
        values = _header_values(header_cells, strings, last_used)
        _check_header(values, table, path)
        found: dict[str, int] = {}
        wanted = {_fold(name): name for name in RESULT_COLUMNS}
        for col in sorted(values):
            value = values[col]
            if value is _FORMULA:
                continue
            name = wanted.get(_fold(header_text(value)))
            if name and name not in found:
                found[name] = col
        for name, col in found.items():
            for rng in merged:
                if rng[3] >= top and rng[0] <= col <= rng[2]:
                    coord = f"{column_letter(rng[0])}{rng[1]}:{column_letter(rng[2])}{rng[3]}"
                    raise WorkbookError(
                        f"the {name!r} column has merged cells ({coord}): unmerge them so "
                        "each row can get its own result",
                        file=str(path),
                        sheet=table.sheet,
                    )
        self.header_style = self._styles.bold(_header_style(header_cells, table))
        self.new_columns: dict[int, str] = {}
        next_col = last_used + 1
        for name in RESULT_COLUMNS:
            if name not in found:
                found[name] = next_col
                self.new_columns[next_col] = name
                next_col += 1
        return found

    def _header_cells(self, body: bytes) -> dict[int, bytes]:
        for match in _ROW.finditer(body):
            number = _ROW_NUMBER.search(match[0], 0, match[0].find(b">"))
            if number and int(number[1]) == self.top:
                return {col: cell for col, cell in _cells(match[0])}
        raise _Unsupported("the header row is not in the sheet XML")

    def rewrite(
        self, results: Mapping[int, Sequence[object]], cells: _CellMaker
    ) -> Iterator[bytes]:
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
        return ref is not None and _column_number(ref[1]) < self.min_result_column

    def _head(self, max_row: int) -> bytes:
        head = self.xml[: self.data_start]
        dimension = _DIMENSION.search(head)
        if dimension:
            try:
                first_col, first_row, last_col, last_row = _range(dimension[1].decode())
            except _Unsupported:
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


_FORMULA: Final = object()


def _check_references(body: bytes) -> None:
    rows = body.count(b"<row ") + body.count(b"<row>") + body.count(b"<row/>")
    numbers = [int(n) for n in re.findall(rb'<row\b[^>]*?\sr="(\d+)"', body)]
    if len(numbers) != rows:
        raise _Unsupported("a row without r=")
    if any(a >= b for a, b in itertools.pairwise(numbers)):
        raise _Unsupported("rows out of order")
    cells = body.count(b"<c ") + body.count(b"<c>") + body.count(b"<c/>")
    if body.count(b'<c r="') != cells:
        raise _Unsupported("a cell without r= (as its first attribute)")


def _check_formulas(body: bytes, result_columns: set[int], top: int) -> None:
    """No formula may sit in, or span over, a result column: those cells get replaced."""
    if b"<f" not in body:
        return
    for letters, row, attrs in _FORMULA_CELL.findall(body):
        col = _column_number(letters)
        if col in result_columns and int(row) > top:
            raise _Unsupported("a formula in a result column")
        spanned = _FORMULA_RANGE.search(attrs)
        if spanned or b'"shared"' in attrs:
            first, _, last, _ = _range(spanned[1].decode()) if spanned else (col, 0, col, 0)
            if any(first <= c <= last for c in result_columns):
                raise _Unsupported("a shared or array formula over a result column")


def _last_used(body: bytes, known: int, top: int) -> int:
    letters = set(re.findall(rb'<c r="([A-Z]{1,3})', body))
    if not letters or max(_column_number(x) for x in letters) <= known:
        return known
    used = [
        col
        for letters_, row in _CONTENT_CELL.findall(body)
        if (col := _column_number(letters_)) > known and int(row) >= top
    ]
    return max(used, default=known)


def _cells(row_xml: bytes) -> Iterator[tuple[int, bytes]]:
    for match in _CELL.finditer(row_xml):
        ref = _CELL_REF.match(match[0])
        if ref is None:
            raise _Unsupported("a cell without r=")
        yield _column_number(ref[1]), match[0]


def _header_values(
    cells: Mapping[int, bytes], strings: _SharedStrings, last_used: int
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
            values[col] = _FORMULA
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
            values[col] = _NumberHeader(raw)
    texts = strings.texts(set(shared.values()))
    for col, index in shared.items():
        values[col] = texts[index]
    return values


class _NumberHeader(str):
    """A number or date in the header row: compared as text, never taken for a column name."""


def _check_header(values: Mapping[int, object], table: Table, path: Path) -> None:
    for i, expected in enumerate(table.header):
        col = table.first_column + i
        value = values.get(col)
        if value is _FORMULA or (isinstance(value, str) and value.startswith("=")):
            continue
        if isinstance(value, _NumberHeader | bool):
            # openpyxl and calamine may render numbers, dates and booleans differently.
            if header_text(value) != expected:
                raise _Unsupported("a number, date or boolean in the header row")
            continue
        found = header_text(value)
        if found != expected:
            raise header_changed(path, table, col, found, expected)


def _header_style(cells: Mapping[int, bytes], table: Table) -> int:
    for i in range(len(table.header) - 1, -1, -1):
        if table.header[i]:
            cell = cells.get(table.first_column + i)
            style = _CELL_STYLE.search(cell, 0, cell.find(b">")) if cell else None
            return int(style[1]) if style else 0
    return 0


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


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
            + b' spans="%d:%d"' % (_column_number(first[1]), last)
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
            attrs = _attrs(element.decode())
            low, high = int(attrs.get("min", "0")), int(attrs.get("max", "0"))
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


class _CellMaker:
    """Builds the XML of result cells, choosing their cell formats as columns.py does."""

    def __init__(self, plan: _SheetPlan, styles: _Styles, date1904: bool) -> None:
        self._styles = styles
        self._header_style = plan.header_style
        self._columns = [
            (col, column_letter(col).encode()) for col in (plan.columns[n] for n in RESULT_COLUMNS)
        ]
        self._epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
        self._fresh_cost: int | None = None
        self._fresh_time: int | None = None
        self._derived: dict[tuple[int, str], int] = {}

    def header(self, top: int, new_columns: Mapping[int, str]) -> dict[int, bytes]:
        top_cells = {}
        for col, name in new_columns.items():
            ref = f"{column_letter(col)}{top}".encode()
            top_cells[col] = _text_cell(ref, name, self._header_style)
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
                found = _CELL_STYLE.search(old, 0, old.find(b">"))
                style = int(found[1]) if found else 0
            ref = letters + suffix
            if i in (0, 1, 4):
                out[col] = _text_cell(ref, str(value), style)
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
            return _text_cell(ref, str(value), style)
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


def _text_cell(ref: bytes, value: str, style: int | None) -> bytes:
    if len(value) > _MAX_TEXT or _SPECIAL.search(value):
        text = _ILLEGAL.sub("", value)[:_MAX_TEXT]
        if not text:
            return b'<c r="' + ref + b'"' + _style_attr(style) + b"/>"
        space = ' xml:space="preserve"' if text != text.strip() else ""
        escaped = _escape(text).replace("\r", "&#13;")
        body = f' t="inlineStr"><is><t{space}>{escaped}</t></is></c>'.encode()
    else:
        body = b' t="inlineStr"><is><t>' + value.encode() + b"</t></is></c>"
    return b'<c r="' + ref + b'"' + (b' s="%d"' % style if style else b"") + body


def _value_cell(ref: bytes, style: int | None, value: str) -> bytes:
    return b'<c r="' + ref + b'"' + _style_attr(style) + b"><v>" + value.encode() + b"</v></c>"
