"""Who the recipients are: which columns hold the phone numbers, and who already gets which text.

Pure: no I/O. The phone columns are named by the user or found by their header, else by their
content; a row's number is the first non-empty cell among them. :class:`Recipients` remembers,
as rows stream by, which number has been given which text, so that a duplicate is the same
number with the same text and the same number with another text is a shared number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import WorkbookError
from .phone import looks_like_phone
from .table import RESULT_COLUMNS, Cell, Row, Table

__all__ = [
    "PHONE_HEADER_WORDS",
    "SAMPLE_ROWS",
    "PhoneColumns",
    "Recipients",
    "find_phone_column",
    "find_phone_columns",
]

# Header words that name a phone column, in the languages our users write headers in.
PHONE_HEADER_WORDS = (
    "phone",
    "mobile",
    "mobil",
    "mobilnummer",
    "telefon",
    "telefonnummer",
    "tel",
    "tfn",
    "tlf",
    "nummer",
    "number",
    "numer",
    "cell",
    "cellphone",
    "gsm",
    "msisdn",
    "puhelin",
    "handy",
    "komórka",
    "recipient",
    "to",
)
_CONTENT_SAMPLE = 50
SAMPLE_ROWS = _CONTENT_SAMPLE * 4


@dataclass(frozen=True, slots=True)
class PhoneColumns:
    """The columns a row's number is read from, in order: the first non-empty cell wins.

    ``others`` names phone-like columns that are not read (only when the column was found
    automatically), so the plan can say that another one exists.
    """

    indices: tuple[int, ...]
    headers: tuple[str, ...]
    others: tuple[str, ...] = ()

    @classmethod
    def of(cls, table: Table, indices: Sequence[int], others: Sequence[str] = ()) -> PhoneColumns:
        return cls(tuple(indices), tuple(table.header[i] for i in indices), tuple(others))

    @property
    def label(self) -> str:
        """The headers for people: "Mobil", or "Mobil, Hemtelefon" when several are read."""
        return ", ".join(self.headers)

    def cell(self, values: Sequence[Cell]) -> tuple[Cell, str | None]:
        """The first non-empty cell and its header; the first cell and None when all are empty."""
        for index, header in zip(self.indices, self.headers, strict=True):
            value = values[index] if index < len(values) else None
            if not _blank(value):
                return value, header
        first = self.indices[0]
        return (values[first] if first < len(values) else None), None


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "'"))


def find_phone_columns(
    table: Table, names: Sequence[str] = (), sample: Sequence[Row] | None = None
) -> PhoneColumns:
    """The phone columns: those ``names`` (in that order), else the one found automatically.

    ``sample`` holds the first rows when ``table.rows`` is not filled (streaming).
    """
    if sample is None:
        sample = table.rows[:SAMPLE_ROWS]
    if names:
        return PhoneColumns.of(table, [_named_column(table, name) for name in names])
    index = _found_column(table, sample)
    others = [
        header
        for i, header in enumerate(table.header)
        if i != index and header not in RESULT_COLUMNS and _phone_like(sample, i, header)
    ]
    return PhoneColumns.of(table, [index], others)


def find_phone_column(
    table: Table, name: str | None = None, sample: Sequence[Row] | None = None
) -> int:
    """Index of the phone column: named, else found by its header, else by its content."""
    return find_phone_columns(table, () if name is None else (name,), sample).indices[0]


def _named_column(table: Table, name: str) -> int:
    index = table.column_index(name)
    if index is None:
        raise WorkbookError(
            f"no column {name!r}; the columns are: {_list_headers(table)}",
            file=table.source or None,
            sheet=table.sheet,
        )
    return index


def _found_column(table: Table, sample: Sequence[Row]) -> int:
    scored = [(_header_score(h), i) for i, h in enumerate(table.header)]
    best = max((s for s, _ in scored), default=0)
    if best:
        candidates = [i for s, i in scored if s == best]
        if len(candidates) == 1:
            return candidates[0]
        return max(candidates, key=lambda i: _content_ratio(sample, i))
    ratios = [
        (_content_ratio(sample, i), i)
        for i, h in enumerate(table.header)
        if h not in RESULT_COLUMNS
    ]
    ratio, index = max(ratios, default=(0.0, -1))
    if ratio >= 0.5:
        return index
    raise WorkbookError(
        "cannot tell which column holds the phone numbers; name it with --phone-column "
        f"(the columns are: {_list_headers(table)})",
        file=table.source or None,
        sheet=table.sheet,
    )


def _phone_like(sample: Sequence[Row], index: int, header: str) -> bool:
    """A column that holds phone numbers too: mostly numbers, or named so and holding some."""
    ratio = _content_ratio(sample, index)
    return ratio >= 0.5 or (ratio > 0 and _header_score(header) > 0)


def _header_key(header: str) -> str:
    return re.sub(r"[\W_]+", "", header.casefold())


def _header_score(header: str) -> int:
    """2 for a header that is a phone word, 1 for one that contains one, 0 otherwise."""
    key = _header_key(header)
    if not key or header in RESULT_COLUMNS:
        return 0
    if key in PHONE_HEADER_WORDS:
        return 2
    words = re.split(r"[\W_]+", header.casefold())
    long_words = [w for w in PHONE_HEADER_WORDS if len(w) > 3]
    if any(w in PHONE_HEADER_WORDS for w in words) or any(w in key for w in long_words):
        return 1
    return 0


def _content_ratio(sample: Sequence[Row], index: int) -> float:
    values = [row.values[index] if index < len(row.values) else None for row in sample]
    filled = [v for v in values if v not in (None, "")][:_CONTENT_SAMPLE]
    if not filled:
        return 0.0
    return sum(1 for v in filled if looks_like_phone(v)) / len(filled)


def _list_headers(table: Table) -> str:
    return ", ".join(repr(h) for h in table.header if h) or "(none)"


class Recipients:
    """Which number has been given which text so far, for rows planned one after another.

    100,000 rows must not keep 100,000 texts alive, so a text is known by its 64-bit hash
    (two different texts to one number colliding is a chance of 1 in 2**64), packed with the
    row into the one int the number maps to: no more memory than a row number alone. Only a
    number given several texts (rare) needs more. With ``one_per_number`` a number is given
    one message whatever its text (first row wins).
    """

    def __init__(self, *, one_per_number: bool = False) -> None:
        self._one_per_number = one_per_number
        self._first: dict[str, int] = {}  # number -> first row << 64 | its text's key
        self._more: dict[tuple[str, int], int] = {}  # (number, text key) -> row, later texts

    def duplicate_of(self, e164: str, text: str | None) -> int | None:
        """The earlier row this one duplicates: the same number (and text, unless one per number).

        ``text`` None asks about the number alone (before rendering, one per number).
        """
        first = self._first.get(e164)
        if first is None:
            return None
        if self._one_per_number or text is None:
            return first >> _KEY_BITS
        key = _text_key(text)
        if first & _KEY_MASK == key:
            return first >> _KEY_BITS
        return self._more.get((e164, key))

    def shared_with(self, e164: str) -> int | None:
        """The first earlier row given a message to this number, if any."""
        first = self._first.get(e164)
        return None if first is None else first >> _KEY_BITS

    def add(self, e164: str, text: str | None, row: int) -> None:
        """Remember that ``row`` gives ``e164`` this ``text`` (None: a text we cannot know)."""
        key = _text_key(text)
        first = self._first.get(e164)
        if first is None:
            self._first[e164] = row << _KEY_BITS | key
        elif first & _KEY_MASK != key:
            self._more.setdefault((e164, key), row)


_KEY_BITS = 64
_KEY_MASK = (1 << _KEY_BITS) - 1
_UNKNOWN_TEXT = _KEY_MASK  # CPython's hash() is never -1, so no text has this key


def _text_key(text: str | None) -> int:
    return _UNKNOWN_TEXT if text is None else hash(text) & _KEY_MASK
