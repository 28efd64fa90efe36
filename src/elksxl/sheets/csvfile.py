"""CSV contact lists: how a CSV file is written (encoding, delimiter, quoting, line ends), its
records, and reading it into a :class:`~elksxl.table.Table`.

Contact lists arrive as CSV from CRMs and from Excel. What is recognised:

- encoding: a byte-order mark says UTF-8, UTF-16LE or UTF-16BE (Excel's "Unicode text");
  without one, strict UTF-8 is tried first and Windows-1252 (Excel's "CSV" on a Swedish or
  Western European Windows) second. A file that is neither, or that mixes the two (a UTF-8
  file with a Windows-1252 line pasted in), is an error naming the line. No guessing library:
  these are the encodings contact lists come in, and a wrong guess would garble names silently.
- delimiter: comma, semicolon (Swedish Excel), tab or bar, chosen by counting each outside
  quotes on the first lines: the one the header has and most lines agree on. An Excel
  ``sep=;`` first line is obeyed. ``csv.Sniffer`` is not used: it guesses wrong on decimal
  commas and quoted addresses.
- records: RFC 4180 quoting with doubled quotes; a quoted field may hold delimiters and line
  breaks; lines end in CRLF, LF or CR, and the last one may have no end.

The header is the first non-blank record. Every :class:`~elksxl.table.Row` keeps the number of
its record, which is the row Excel shows when it opens the file (a quoted line break stays in
its cell), so results go back to the right record. Values stay text exactly as written, never
numbers or dates (``0701234567`` keeps its zero); an empty field is None. A record shorter
than the header is padded with None; a longer one is an error, because its extra values have no
column and results written after it would land under the wrong header.

Campaign identity: a CSV has no document properties, so the campaign id is stored in a column,
:data:`CAMPAIGN_COLUMN`, written into every data row before the first message is sent (see
:mod:`elksxl.sheets.csvwriter`). The id travels with the rows themselves: a CSV that is moved,
renamed, copied, sorted in Excel, or split into several files still names its campaign in every
row, so a re-run resumes it and never sends twice; rows added later join it. A fresh export
from the CRM has no such column and is a new campaign. :attr:`Table.campaign_id` is the id when
all non-empty values agree; a file mixing two campaigns is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import WorkbookError
from ..table import Cell, Row, Table
from .files import check_unique_headers

__all__ = [
    "CAMPAIGN_COLUMN",
    "CSV_SUFFIXES",
    "CsvFile",
    "CsvFormat",
    "load_csv",
    "read_csv",
    "stream_csv",
]

CAMPAIGN_COLUMN = "SMS campaign"
CSV_SUFFIXES = (".csv", ".tsv", ".txt")

_DELIMITERS = (",", ";", "\t", "|")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
# Two- and three-byte UTF-8 sequences: in a file that is not valid UTF-8 they mean mixed input.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
_LINE_END = re.compile(r"\r\n|\n|\r")
_SEP_LINE = re.compile(r"sep=(.)")
_PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().\-/]{5,}\d")
_SAVE_UTF8 = "open it in Excel and save it as 'CSV UTF-8 (comma delimited)'"


@dataclass(frozen=True, slots=True)
class CsvFormat:
    """How a CSV file is written, so results can be written the same way."""

    encoding: str  # a Python codec: utf-8, cp1252, utf-16-le or utf-16-be
    bom: bytes  # the byte-order mark the file starts with, b"" when none
    delimiter: str
    newline: str  # the header record's line end: "\r\n", "\n" or "\r"
    quote_all: bool  # every header field is quoted: new fields are quoted too

    @property
    def encoding_name(self) -> str:
        """The encoding as Excel names it: UTF-8, Windows-1252 or UTF-16."""
        return _NAMES[self.encoding]

    @property
    def description(self) -> str:
        """Such as ``Windows-1252, ';'-separated, CRLF``."""
        bom = " with BOM" if self.bom and self.encoding == "utf-8" else ""
        ends = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}[self.newline]
        return f"{self.encoding_name}{bom}, {self.delimiter!r}-separated, {ends}"


class Records:
    """Splits decoded CSV text into records and fields without changing a character."""

    def __init__(self, delimiter: str) -> None:
        d = re.escape(delimiter)
        field = rf'(?:"[^"]*(?:""[^"]*)*"[^{d}\r\n]*|[^{d}\r\n"][^{d}\r\n]*|)'
        self.delimiter = delimiter
        self._record = re.compile(rf"({field}(?:{d}{field})*)(\r\n|\n|\r|\Z)")
        self._field = re.compile(field)
        self._quoted = re.compile(rf'"([^"]*(?:""[^"]*)*)"([^{d}\r\n]*)')

    def split(self, text: str, pos: int, file: str) -> Iterator[tuple[int, str, str]]:
        """(start offset, content, line end) of every record from ``pos`` on."""
        end = len(text)
        match = self._record.match
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise WorkbookError(
                    f'line {_line_of(text, pos)}: a quoted value is never closed (a " without '
                    'its closing "): fix the quotes in a text editor, or open the file in '
                    "Excel and save it again",
                    file=file,
                )
            yield pos, m.group(1), m.group(2)
            pos = m.end()

    def raw(self, content: str) -> list[str]:
        """The fields of one record as written, quotes included."""
        if '"' not in content:
            return content.split(self.delimiter)
        fields = []
        match = self._field.match
        pos, end = 0, len(content)
        while True:
            m = match(content, pos)
            assert m is not None  # the record pattern matched this content field by field
            fields.append(m.group())
            pos = m.end() + 1  # past the delimiter
            if pos > end:
                return fields

    def values(self, content: str) -> list[str]:
        """The field values of one record: quotes removed, doubled quotes undone."""
        if '"' not in content:
            return content.split(self.delimiter)
        return [self.unquote(field) for field in self.raw(content)]

    def unquote(self, field: str) -> str:
        m = self._quoted.fullmatch(field) if field.startswith('"') else None
        return m.group(1).replace('""', '"') + m.group(2) if m else field


@dataclass(frozen=True)
class CsvFile:
    """A CSV file read into memory: its text, format, and where its header is."""

    path: Path
    text: str
    format: CsvFormat
    records: Records
    header: tuple[str, ...]
    header_row: int
    data_start: int  # offset in ``text`` of the record after the header

    def rows(self) -> Iterator[tuple[int, str, str]]:
        """(record number, content, line end) of every record below the header."""
        split = self.records.split(self.text, self.data_start, str(self.path))
        for number, (_, content, end) in enumerate(split, start=self.header_row + 1):
            yield number, content, end


def load_csv(path: Path) -> CsvFile:
    """Read, decode and split the header of the CSV file at ``path``."""
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise WorkbookError("file not found: check the name and the folder", file=file) from e
    except IsADirectoryError as e:
        raise WorkbookError("this is a folder, not a CSV file", file=file) from e
    except OSError as e:
        raise WorkbookError(f"cannot be read ({e.strerror or e})", file=file) from e
    text, encoding, bom = _decode(data, file)
    delimiter, pos = _sep_line(text)
    delimiter = delimiter or _delimiter(text)
    records = Records(delimiter)
    first = 2 if pos else 1  # after a sep= line, which is record 1
    for number, (start, content, end) in enumerate(records.split(text, pos, file), start=first):
        fields = records.raw(content)
        values = [records.unquote(f) for f in fields]
        if not any(v.strip() for v in values):
            continue
        quote_all = all(f.startswith('"') for f in fields)
        header = _header_names(values, number, file)
        fmt = CsvFormat(encoding, bom, delimiter, end or "\r\n", quote_all)
        return CsvFile(path, text, fmt, records, header, number, start + len(content) + len(end))
    raise WorkbookError(
        "the file is empty: put a header line (such as Telefon;Förnamn) first "
        "and one recipient per line below it",
        file=file,
    )


def read_csv(path: Path, sheet: str | None = None, *, include_hidden: bool = False) -> Table:
    """Read the CSV file at ``path`` into a Table named after the file (its stem).

    ``sheet`` and ``include_hidden`` exist so a CSV is read with the same call as a workbook:
    ``sheet`` may only name the file's stem, and a CSV has no hidden rows. Raises WorkbookError
    for every file, encoding, quoting or header problem, naming the file and line.
    """
    csv = load_csv(path)
    table = _table(csv, sheet)
    rows = list(_data_rows(csv))
    return replace(table, rows=rows, campaign_id=_campaign_id(csv, table, rows))


@contextmanager
def stream_csv(
    path: Path, sheet: str | None = None, *, include_hidden: bool = False
) -> Iterator[tuple[Table, Iterator[Row]]]:
    """Like :func:`read_csv`, but the rows come one at a time from an iterator.

    The text is held in memory (a few bytes per cell); the Row objects, which cost far more,
    are built as they are consumed.
    """
    csv = load_csv(path)
    table = _table(csv, sheet)
    if table.column_index(CAMPAIGN_COLUMN) is not None:
        table = replace(table, campaign_id=_campaign_id(csv, table, _data_rows(csv)))
    yield table, _data_rows(csv)


def _table(csv: CsvFile, sheet: str | None) -> Table:
    name = csv.path.stem
    if sheet is not None and sheet.strip().casefold() != name.casefold():
        raise WorkbookError(
            f"a CSV file has one sheet, named after the file ({name!r}), not {sheet!r}",
            file=str(csv.path),
        )
    return Table(
        header=csv.header, rows=(), sheet=name, source=str(csv.path), header_row=csv.header_row
    )


def _data_rows(csv: CsvFile) -> Iterator[Row]:
    width = len(csv.header)
    values = csv.records.values
    shared: dict[str, str] = {}
    share = shared.setdefault  # names and towns repeat: one string object per distinct value
    for number, content, _ in csv.rows():
        fields = values(content)
        if len(fields) > width:
            _too_long(csv, number, fields, width)
        cells: tuple[Cell, ...] = tuple([share(v, v) if v else None for v in fields])
        if cells.count(None) == len(cells):
            continue
        if len(cells) < width:
            cells += (None,) * (width - len(cells))
        yield Row(number, cells)


def _too_long(csv: CsvFile, number: int, fields: list[str], width: int) -> None:
    raise WorkbookError(
        f"this line has {len(fields)} values but the header has {width} columns: put quotes "
        f"around values that contain {csv.format.delimiter!r}, or give the extra column a "
        "header",
        file=str(csv.path),
        row=number,
    )


def _campaign_id(csv: CsvFile, table: Table, rows: Iterator[Row] | list[Row]) -> str | None:
    column = table.column_index(CAMPAIGN_COLUMN)
    if column is None:
        return None
    seen: dict[str, int] = {}
    for row in rows:
        value = row.values[column]
        if isinstance(value, str) and value.strip():
            seen.setdefault(value.strip(), row.number)
    if len(seen) > 1:
        (a, row_a), (b, row_b) = list(seen.items())[:2]
        raise WorkbookError(
            f"the file mixes rows of different campaigns in the {CAMPAIGN_COLUMN!r} column "
            f"({a!r} in row {row_a}, {b!r} in row {row_b}): keep the rows of one campaign per "
            f"file, or clear the {CAMPAIGN_COLUMN!r} column to send them as a new campaign",
            file=str(csv.path),
        )
    return next(iter(seen), None)


def _decode(data: bytes, file: str) -> tuple[str, str, bytes]:
    """(text, codec, byte-order mark) of a CSV file's bytes."""
    _check_text(data, file)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), codec, bom
            except UnicodeDecodeError as e:
                raise _undecodable(data, len(bom) + e.start, _NAMES[codec], file) from e
    if b"\x00" in data[:4096]:
        raise WorkbookError("this is not a text file, so not a CSV file", file=file)
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError as e:
        first_bad = e.start
    if _UTF8_SEQUENCE.search(data):
        raise WorkbookError(
            f"line {_byte_line(data, first_bad)} is not UTF-8 but other lines are: the file "
            f"mixes two encodings. Fix that line's special letters, or {_SAVE_UTF8}",
            file=file,
        )
    try:
        return data.decode("cp1252"), "cp1252", b""
    except UnicodeDecodeError as e:
        raise _undecodable(data, e.start, "UTF-8 or Windows-1252", file) from e


def _check_text(data: bytes, file: str) -> None:
    if not data:
        raise WorkbookError("the file is empty (0 bytes), not a contact list", file=file)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise WorkbookError(
            "this is an Excel workbook (a zip file), not a CSV file: give it the .xlsx "
            "extension, or open it in Excel and save it as CSV",
            file=file,
        )
    if data.startswith(bytes.fromhex("D0CF11E0A1B11AE1")):
        raise WorkbookError(
            "this is an old Excel (.xls) or other Office file, not a CSV file: open it in "
            "Excel and save it as CSV UTF-8 or as .xlsx",
            file=file,
        )


def _undecodable(data: bytes, offset: int, expected: str, file: str) -> WorkbookError:
    return WorkbookError(
        f"byte 0x{data[offset]:02X} on line {_byte_line(data, offset)} is not {expected} "
        f"text: {_SAVE_UTF8}",
        file=file,
    )


def _byte_line(data: bytes, offset: int) -> int:
    newline = b"\n" if b"\n" in data else b"\r"
    return data.count(newline, 0, offset) + 1


def _line_of(text: str, offset: int) -> int:
    """The 1-based line of ``text`` that ``offset`` falls on."""
    newline = "\n" if "\n" in text else "\r"
    return text.count(newline, 0, offset) + 1


def _sep_line(text: str) -> tuple[str | None, int]:
    """Excel's ``sep=;`` first line: (delimiter, offset after it), else (None, 0)."""
    first = _LINE_END.search(text)
    if first and (m := _SEP_LINE.fullmatch(text, 0, first.start())):
        return m.group(1), first.end()
    return None, 0


def _delimiter(text: str) -> str:
    """The delimiter the first non-blank line has and the most of the next lines agree on."""
    sample = text[:65536]
    outside = "".join(sample.split('"')[0::2])  # doubled quotes toggle twice: still correct
    lines = [line for line in _LINE_END.split(outside)[:30] if line.strip()]
    if len(sample) < len(text) and len(lines) > 1:
        lines.pop()  # cut off by the sample's end
    best, best_score = ",", (0, 0)
    for candidate in _DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if not counts or counts[0] == 0:
            continue
        score = (sum(1 for c in counts if c == counts[0]), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _header_names(values: list[str], row: int, file: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in values)
    if any(_PHONE_LIKE.fullmatch(n) for n in names):
        raise WorkbookError(
            "the first line looks like data, not a header: add a header line above it that "
            "names the columns, such as Telefon;Förnamn",
            file=file,
            row=row,
        )
    check_unique_headers(names, row, file=file)
    return names
