"""Write send results into the result columns of a CSV file, changing nothing else in it.

:class:`CsvResultWriter` keeps the file's text in memory, split into records, and on every
save writes it back with the result fields filled in: the same encoding and byte-order mark,
delimiter, line ends and quoting style (new fields are quoted when the header's fields all
are, otherwise only when they must be). Every field outside the result columns is copied
character for character, so a semicolon CSV in Windows-1252 comes back byte for byte except
for the new columns.

Decisions worth knowing:

- Result columns (:data:`~elksxl.table.RESULT_COLUMNS`) are reused wherever they are in the
  header (case and spacing ignored); missing ones are added at the right end, then
  ``SMS campaign`` once a campaign id is set. Every record gets the new fields, so the file
  stays rectangular; a record shorter than the header is padded up to it first. Blank lines
  stay blank.
- The campaign id (:meth:`CsvResultWriter.set_campaign_id`) goes into ``SMS campaign`` in every
  data row, because a CSV has no document properties: see :mod:`elksxl.sheets.csvfile` for why
  a column is the right place.
- Formula injection: a text result (status, id, error) starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return is written with an apostrophe in front (``'=HYPERLINK(...)``), the
  OWASP advice: Excel opening the CSV shows it as text instead of running it. Numbers and times
  are written by elksxl and never start that way. Control characters (NUL and the like) are
  dropped.
- A character the file's encoding cannot hold (``ł`` in a Windows-1252 file) is written as
  ``?`` and named in :attr:`CsvResultWriter.warnings`; the save never fails on it.
- ``SMS cost`` uses a decimal comma in a semicolon-separated file (the list separator of
  locales whose decimal sign is a comma, as in Swedish Excel), a point otherwise.
  ``SMS sent at`` / ``SMS delivered at`` are local wall-clock times, ``2026-05-01 13:45:10``.
- Saves are atomic. When the file is open in Excel or LibreOffice (its lock file is present),
  read-only, in a read-only folder, or changed on disk since it was read, results go to
  ``NAME.results.csv`` beside it (or in the current folder) for the rest of the run.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Final

from ..errors import WorkbookError
from ..table import RESULT_COLUMNS, RowResult, Table
from .csvfile import CAMPAIGN_COLUMN, CsvFile, load_csv
from .files import column_letter, header_changed
from .saving import SaveTarget

__all__ = ["CsvResultWriter"]

_COLUMNS: Final = (*RESULT_COLUMNS, CAMPAIGN_COLUMN)
_CAMPAIGN: Final = len(RESULT_COLUMNS)  # slot of the campaign id in a row's new fields
_TEXT_SLOTS: Final = frozenset({0, 1, 4})  # status, id, error: text from outside
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_UNSET: Final = object()
# Control characters other than tab and line breaks: Excel shows them as boxes or stops at NUL.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_Line = tuple[str, tuple[str, ...] | None, str, int, bool]
"""(head, fields from the cut on or None for a line kept as it is, line end, head field count,
holds data)."""


class CsvResultWriter:
    """Holds one CSV file in memory, fills in result fields, saves atomically on request."""

    def __init__(self, path: Path, table: Table) -> None:
        self.path = Path(path)
        self._destination = SaveTarget(self.path)  # before reading: see SaveTarget
        csv = load_csv(self.path)
        _check_header(csv, table)
        self._format = csv.format
        self._header_row = csv.header_row
        self._width = len(csv.header)
        self._index = _find_columns(csv.header)
        self._cut = min(self._index.values(), default=self._width)
        self._lines = _split_lines(csv, self._cut)
        self._new: dict[int, list[str | None]] = {}
        self._campaign: object = _UNSET
        self._unencodable: dict[str, None] = {}

    @property
    def target(self) -> Path:
        """Where the next save goes: the CSV file itself, or ``NAME.results.csv``."""
        return self._destination.target

    @property
    def fallback_reason(self) -> str | None:
        """Why results go to another file than the CSV file (None while they do not)."""
        return self._destination.reason

    @property
    def warnings(self) -> tuple[str, ...]:
        """What could not be written as given, for the caller to show."""
        if not self._unencodable:
            return ()
        chars = "".join(self._unencodable)
        return (
            f"{self._format.encoding_name} cannot hold the characters {chars!r}: "
            "they were written as '?' in the results",
        )

    @property
    def columns(self) -> dict[str, str]:
        """Result column header -> Excel column letter (SMS campaign once it has one)."""
        width = self._width
        result = {}
        for name in _COLUMNS:
            if name in self._index:
                result[name] = column_letter(self._index[name] + 1)
            elif name != CAMPAIGN_COLUMN or self._campaign is not _UNSET:
                width += 1
                result[name] = column_letter(width)
        return result

    def set(self, row: int, result: RowResult) -> None:
        """Fill the result fields of record ``row`` (None leaves a field as it is)."""
        if not self._header_row < row <= len(self._lines):
            raise ValueError(f"row {row} is not a data row of {self.path.name}")
        fields = self._new.setdefault(row, [None] * len(_COLUMNS))
        values = (
            result.status,
            result.sms_id,
            None if result.parts is None else str(int(result.parts)),
            None if result.cost is None else self._cost(result.cost),
            result.error,
            None if result.sent_at is None else _moment(result.sent_at),
            None if result.delivered_at is None else _moment(result.delivered_at),
        )
        for slot, value in enumerate(values):
            if value is not None:
                fields[slot] = self._field(value, text=slot in _TEXT_SLOTS)

    def set_campaign_id(self, campaign_id: str | None) -> None:
        """Write ``campaign_id`` into every data row at the next save (None clears it)."""
        self._campaign = None if campaign_id is None else self._field(campaign_id, text=True)

    def save(self) -> Path:
        """Save atomically to :attr:`target` and return it."""
        payload = self._format.bom + self._render().encode(self._format.encoding)

        def write(out: BinaryIO) -> None:
            out.write(payload)

        return self._destination.save(write)

    def _field(self, value: str, *, text: bool) -> str:
        """``value`` as a field of this file: neutralised, encodable, quoted when needed."""
        value = _CONTROL.sub("", value)
        if text and value.startswith(_FORMULA_START):
            value = "'" + value
        try:
            value.encode(self._format.encoding)
        except UnicodeEncodeError:
            value = "".join(self._encodable(c) for c in value)
        fmt = self._format
        if fmt.quote_all or fmt.delimiter in value or any(c in value for c in '"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    def _encodable(self, char: str) -> str:
        try:
            char.encode(self._format.encoding)
        except UnicodeEncodeError:
            self._unencodable[char] = None
            return "?"
        return char

    def _cost(self, cost: float) -> str:
        # Two to four decimals, as the workbook's 0.00## format shows it.
        whole, _, decimals = f"{cost:.4f}".partition(".")
        point = "," if self._format.delimiter == ";" else "."
        return f"{whole}{point}{decimals.rstrip('0').ljust(2, '0')}"

    def _render(self) -> str:
        """The whole file as text, with the result fields filled in."""
        header_row, cut = self._header_row, self._cut
        slots = self._slots()
        total = max(self._width, max(slots, default=-1) + 1)
        empty = '""' if self._format.quote_all else ""
        header_fields: list[str | None] = [
            None if name in self._index else self._field(name, text=False) for name in _COLUMNS
        ]
        campaign = self._campaign if isinstance(self._campaign, str) else None
        delimiter = self._format.delimiter
        out = []
        for number, (head, rest, end, count, data) in enumerate(self._lines, start=1):
            if rest is None:
                out.append(head + end)
                continue
            new = header_fields if number == header_row else self._new.get(number)
            fields = [head] if count else []
            for i in range(count, total):
                slot = slots.get(i)
                value = new[slot] if new is not None and slot is not None else None
                if slot == _CAMPAIGN and data and self._campaign is not _UNSET:
                    value = campaign or empty
                if value is None:
                    value = rest[i - cut] if cut <= i < cut + len(rest) else empty
                fields.append(value)
            out.append(delimiter.join(fields) + end)
        return "".join(out)

    def _slots(self) -> dict[int, int]:
        """Field index -> slot in a row's new fields, for every result column written."""
        slots = {index: _COLUMNS.index(name) for name, index in self._index.items()}
        next_index = self._width
        for slot, name in enumerate(_COLUMNS):
            if name in self._index:
                continue
            if slot == _CAMPAIGN and self._campaign is _UNSET:
                continue  # no campaign column until there is an id to put in it
            slots[next_index] = slot
            next_index += 1
        return slots


def _check_header(csv: CsvFile, table: Table) -> None:
    """Refuse to write if the header differs from the table's: rows may have moved."""
    if csv.header_row != table.header_row:
        raise WorkbookError(
            f"the header moved from line {table.header_row} to line {csv.header_row} since the "
            "file was read: read it again before writing results",
            file=str(csv.path),
        )
    for i in range(max(len(csv.header), len(table.header))):
        found = csv.header[i] if i < len(csv.header) else ""
        expected = table.header[i] if i < len(table.header) else ""
        if found != expected:
            raise header_changed(csv.path, table, i + 1, found, expected)


def _find_columns(header: tuple[str, ...]) -> dict[str, int]:
    wanted = {_fold(name): name for name in _COLUMNS}
    found: dict[str, int] = {}
    for i, text in enumerate(header):
        name = wanted.get(_fold(text))
        if name and name not in found:
            found[name] = i
    return found


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _split_lines(csv: CsvFile, cut: int) -> list[_Line]:
    """Every record of the file, split where the result fields start."""
    records = csv.records
    lines: list[_Line] = []
    for number, (_, content, end) in enumerate(records.split(csv.text, 0, str(csv.path)), 1):
        if number < csv.header_row or not content:
            lines.append((content, None, end, 0, False))
            continue
        fields = records.raw(content)
        if len(fields) > len(csv.header):
            raise WorkbookError(
                f"this line has {len(fields)} values but the header has {len(csv.header)} "
                "columns: read the file again and fix that line first",
                file=str(csv.path),
                row=number,
            )
        count = min(cut, len(fields))
        head = content if count == len(fields) else csv.records.delimiter.join(fields[:count])
        data = number > csv.header_row and any(records.unquote(f).strip() for f in fields)
        lines.append((head, tuple(fields[count:]), end, count, data))
    return lines


def _moment(value: datetime) -> str:
    # Excel has no time zones: write the local wall-clock time, to the second.
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")
