"""Rows + settings -> Plan: what would be sent to whom, at what cost, and every row that will not.

Pure: no I/O. The planner finds the phone column, skips rows already sent, normalizes numbers,
drops duplicates after normalization (first row wins), renders the template and measures the
text (encoding, parts), and estimates the cost from a price table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from .encoding import Encoding, analyze, smart_replace
from .errors import WorkbookError
from .phone import PhoneProblem, looks_like_phone, normalize
from .pricing import PriceTable, to_currency
from .table import RESULT_COLUMNS, STATUS_COLUMN, Cell, Row, Table
from .templating import FieldProblem, MessageTemplate

__all__ = [
    "PHONE_HEADER_WORDS",
    "SAMPLE_ROWS",
    "AlreadySent",
    "Duplicate",
    "Message",
    "Plan",
    "PlanItem",
    "PlanOptions",
    "Problem",
    "Tally",
    "build",
    "find_phone_column",
    "iter_plan",
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
_SETTLED_WORDS = frozenset({"sent", "delivered"})
_CONTENT_SAMPLE = 50
SAMPLE_ROWS = _CONTENT_SAMPLE * 4


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How to read the rows: which column holds the number, the default region, filters."""

    phone_column: str | None = None
    region: str = "SE"
    mobile_only: bool = False
    smart_encoding: bool = False
    skip_sent: bool = True  # False: rows marked sent are planned again (a new campaign)


@dataclass(frozen=True, slots=True)
class Message:
    """One SMS that would be sent."""

    row: int
    to: str
    text: str
    encoding: Encoding
    length: int
    parts: int
    ucs2_chars: tuple[str, ...]
    cost: int | None  # 1/10000 of the price table's currency; None when no price is known

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "to": self.to,
            "text": self.text,
            "encoding": self.encoding,
            "length": self.length,
            "parts": self.parts,
            "ucs2_chars": list(self.ucs2_chars),
            "estimated_cost": None if self.cost is None else to_currency(self.cost),
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that will not be sent, and why, in words a person understands."""

    row: int
    column: str
    value: Cell
    reason: str

    def to_dict(self) -> dict[str, Any]:
        value = self.value if isinstance(self.value, str | int | float | None) else str(self.value)
        return {"row": self.row, "column": self.column, "value": value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row whose number (after normalization) already appears in an earlier row."""

    row: int
    to: str
    first_row: int

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "to": self.to, "first_row": self.first_row}


@dataclass(frozen=True, slots=True)
class AlreadySent:
    """A row whose ``SMS status`` already says sent or delivered: skipped."""

    row: int


PlanItem = Message | Problem | Duplicate | AlreadySent


@dataclass(frozen=True)
class Plan:
    """The whole campaign as it would run: messages, problems, duplicates and totals."""

    rows: int
    phone_column: str
    messages: tuple[Message, ...]
    problems: tuple[Problem, ...]
    duplicates: tuple[Duplicate, ...]
    already_sent: tuple[int, ...]
    currency: str | None

    @property
    def parts(self) -> int:
        return sum(m.parts for m in self.messages)

    @property
    def unpriced(self) -> int:
        """How many messages have no known price (their destination is not in the table)."""
        return sum(1 for m in self.messages if m.cost is None)

    @property
    def known_cost(self) -> int:
        return sum(m.cost for m in self.messages if m.cost is not None)

    @property
    def estimated_cost(self) -> int | None:
        """Total in 1/10000 units, or None when any message has no known price (never a guess)."""
        return None if self.unpriced else self.known_cost

    def to_dict(self) -> dict[str, Any]:
        """The whole plan as JSON-ready data: the totals and every message, problem, duplicate."""
        return {**self.totals(), **{name: [x.to_dict() for x in xs] for name, xs in self.lists()}}

    def lists(self) -> tuple[tuple[str, tuple[Message | Problem | Duplicate, ...]], ...]:
        """The per-row parts of the plan, by their JSON names (streamed by large outputs)."""
        return (
            ("messages", self.messages),
            ("problems", self.problems),
            ("duplicates", self.duplicates),
        )

    def totals(self) -> dict[str, Any]:
        """The plan's totals as JSON-ready data."""
        tally = Tally(self.phone_column, self.currency)
        for _, items in self.lists():
            for item in items:
                tally.add(item)
        tally.rows += len(self.already_sent)
        tally.already_sent += len(self.already_sent)
        return tally.totals()


class Tally:
    """Running totals over plan items, for outputs that stream a plan instead of holding it."""

    def __init__(self, phone_column: str, currency: str | None) -> None:
        self.phone_column = phone_column
        self.currency = currency
        self.rows = self.recipients = self.parts = self.already_sent = 0
        self.unpriced = self.known_cost = 0

    def add(self, item: PlanItem) -> None:
        self.rows += 1
        if isinstance(item, Message):
            self.recipients += 1
            self.parts += item.parts
            if item.cost is None:
                self.unpriced += 1
            else:
                self.known_cost += item.cost
        elif isinstance(item, AlreadySent):
            self.already_sent += 1

    def totals(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "recipients": self.recipients,
            "parts": self.parts,
            "already_sent": self.already_sent,
            "estimated_cost": None if self.unpriced else to_currency(self.known_cost),
            "currency": self.currency,
            "unpriced": self.unpriced,
            "phone_column": self.phone_column,
        }


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


def find_phone_column(
    table: Table, name: str | None = None, sample: Sequence[Row] | None = None
) -> int:
    """Index of the phone column: named, else found by its header, else by its content.

    ``sample`` holds the first rows when ``table.rows`` is not filled (streaming).
    """
    if sample is None:
        sample = table.rows[:SAMPLE_ROWS]
    source = table.source or None
    if name is not None:
        index = table.column_index(name)
        if index is None:
            raise WorkbookError(
                f"no column {name!r}; the columns are: {_list_headers(table)}",
                file=source,
                sheet=table.sheet,
            )
        return index
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
        file=source,
        sheet=table.sheet,
    )


def _list_headers(table: Table) -> str:
    return ", ".join(repr(h) for h in table.header if h) or "(none)"


def _is_settled(value: Cell) -> bool:
    return isinstance(value, str) and value.strip().casefold() in _SETTLED_WORDS


def build(
    table: Table,
    template: MessageTemplate,
    options: PlanOptions | None = None,
    prices: PriceTable | None = None,
) -> Plan:
    """Plan the campaign: one message per new valid recipient, a reason for every other row."""
    options = options or PlanOptions()
    lists: dict[type, list[Any]] = {Message: [], Problem: [], Duplicate: [], AlreadySent: []}
    phone_index = find_phone_column(table, options.phone_column)
    for item in iter_plan(table, table.rows, template, options, prices, phone_index=phone_index):
        lists[type(item)].append(item)
    return Plan(
        rows=len(table.rows),
        phone_column=table.header[phone_index],
        messages=tuple(lists[Message]),
        problems=tuple(lists[Problem]),
        duplicates=tuple(lists[Duplicate]),
        already_sent=tuple(a.row for a in lists[AlreadySent]),
        currency=prices.currency if prices else None,
    )


def iter_plan(
    table: Table,
    rows: Iterable[Row],
    template: MessageTemplate,
    options: PlanOptions | None = None,
    prices: PriceTable | None = None,
    *,
    phone_index: int | None = None,
) -> Iterator[PlanItem]:
    """One item per row, in row order, consuming ``rows`` as it goes (for very large sheets)."""
    options = options or PlanOptions()
    rows = iter(rows)
    if phone_index is None:
        head = list(islice(rows, SAMPLE_ROWS))
        phone_index = find_phone_column(table, options.phone_column, head)
        rows = chain(head, rows)
    phone_header = table.header[phone_index]
    status_index = table.column_index(STATUS_COLUMN) if options.skip_sent else None
    first_row_of: dict[str, int] = {}
    measure = _Measurer(options.smart_encoding)

    for row in rows:
        values = row.values
        raw = values[phone_index] if phone_index < len(values) else None
        if (
            status_index is not None
            and status_index < len(values)
            and _is_settled(values[status_index])
        ):
            number = normalize(raw, options.region)
            if not isinstance(number, PhoneProblem):
                first_row_of.setdefault(number.e164, row.number)
            yield AlreadySent(row.number)
            continue
        number = normalize(raw, options.region, mobile_only=options.mobile_only)
        if isinstance(number, PhoneProblem):
            yield Problem(row.number, phone_header, raw, number.reason)
            continue
        first = first_row_of.get(number.e164)
        if first is not None:
            yield Duplicate(row.number, number.e164, first)
            continue
        text = template.render(values)
        if isinstance(text, FieldProblem):
            yield Problem(row.number, text.column, None, text.reason)
            continue
        first_row_of[number.e164] = row.number
        yield measure(row.number, number.e164, text, prices)


class _Measurer:
    """Turns a rendered text into a Message; caches the analysis of repeated texts."""

    def __init__(self, smart: bool) -> None:
        self._smart = smart
        self._cache: dict[str, tuple[str, Any]] = {}

    def __call__(self, row: int, to: str, text: str, prices: PriceTable | None) -> Message:
        cached = self._cache.get(text)
        if cached is None:
            final = smart_replace(text) if self._smart else text
            cached = (final, analyze(final))
            if len(self._cache) < 10_000:
                self._cache[text] = cached
        final, info = cached
        cost = prices.estimate(to, info.parts) if prices else None
        return Message(
            row, to, final, info.encoding, info.length, info.parts, info.ucs2_chars, cost
        )
