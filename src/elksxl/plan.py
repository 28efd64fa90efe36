"""Rows + settings -> Plan: what would be sent to whom, at what cost, and every row that will not.

Pure: no I/O. The planner reads each row's number from the phone column(s), skips rows
already sent, normalizes numbers (landlines are refused unless allowed), renders the template,
drops duplicates (the same number and the same text; the same number with another text is
sent and listed as a shared number), measures the text (encoding, parts) and estimates the
cost from a price table. Which columns are read is :mod:`elksxl.recipients`' job; what the
plan adds up to is :mod:`elksxl.totals`'.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, islice
from typing import Any

from .encoding import analyze, smart_replace
from .items import AlreadySent, Duplicate, Message, PlanItem, Problem
from .phone import PhoneNumber, PhoneProblem, destination, normalize
from .pricing import PriceTable, comparable
from .recipients import (
    PHONE_HEADER_WORDS,
    SAMPLE_ROWS,
    PhoneColumns,
    Recipients,
    find_phone_column,
    find_phone_columns,
)
from .table import STATUS_COLUMN, Cell, Row, Table
from .templating import FieldProblem, MessageTemplate
from .totals import CountryCost, ProblemGroup, SharedNumber, Tally, estimated_duration

__all__ = [
    "PHONE_HEADER_WORDS",
    "SAMPLE_ROWS",
    "AlreadySent",
    "CountryCost",
    "Duplicate",
    "Message",
    "PhoneColumns",
    "Plan",
    "PlanItem",
    "PlanOptions",
    "Problem",
    "ProblemGroup",
    "SharedNumber",
    "Tally",
    "build",
    "estimated_duration",
    "find_phone_column",
    "find_phone_columns",
    "iter_plan",
]

_SETTLED_WORDS = frozenset({"sent", "delivered"})


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How to read the rows: which columns hold the number, the default region, filters.

    ``phone_columns`` are read in order, the first non-empty cell wins; empty means "find the
    column". ``phone_column`` is the one-column form, put in front of ``phone_columns``.
    ``allow_landlines`` sends to fixed-line numbers too; ``mobile_only`` is stricter than the
    default and wins over it. ``one_per_number`` gives each number one message (first row wins)
    even when the texts differ. ``literal`` is not read by the planner: it is for whoever
    compiles the template (``compile_template(..., literal=options.literal)``), so that one
    options object carries every choice of the user.
    """

    phone_column: str | None = None
    region: str = "SE"
    mobile_only: bool = False
    smart_encoding: bool = False
    phone_columns: tuple[str, ...] = ()
    allow_landlines: bool = False
    one_per_number: bool = False
    literal: bool = False
    skip_sent: bool = True  # False: rows marked sent are planned again (a new campaign)

    def __post_init__(self) -> None:
        columns = tuple(self.phone_columns)
        if self.phone_column is not None and self.phone_column not in columns:
            columns = (self.phone_column, *columns)
        object.__setattr__(self, "phone_columns", columns)


@dataclass(frozen=True)
class Plan:
    """The whole campaign as it would run: messages, problems, duplicates and totals.

    ``phone_column`` names the column(s) read ("Mobil", or "Mobil, Hem" for several);
    ``other_phone_columns`` the phone-like columns found but not read. ``currency`` is the
    price table's: every cost of the plan is in it (see :meth:`estimate_in`).
    """

    rows: int
    phone_column: str
    messages: tuple[Message, ...]
    problems: tuple[Problem, ...]
    duplicates: tuple[Duplicate, ...]
    already_sent: tuple[int, ...]
    currency: str | None
    shared_numbers: tuple[SharedNumber, ...] = ()
    phone_columns: tuple[str, ...] = ()
    other_phone_columns: tuple[str, ...] = ()

    @property
    def parts(self) -> int:
        return sum(m.parts for m in self.messages)

    @property
    def unpriced(self) -> int:
        """How many messages have no known price (their destination is not in the table)."""
        return sum(1 for m in self.messages if m.cost is None)

    @property
    def unpriced_rows(self) -> tuple[int, ...]:
        """The rows whose destination has no price."""
        return tuple(m.row for m in self.messages if m.cost is None)

    @property
    def known_cost(self) -> int:
        return sum(m.cost for m in self.messages if m.cost is not None)

    @property
    def estimated_cost(self) -> int | None:
        """Total in 1/10000 units, or None when any message has no known price (never a guess)."""
        return None if self.unpriced else self.known_cost

    def estimate_in(self, account_currency: str | None) -> int | None:
        """The estimate when it is in ``account_currency``, else None: unknown, not converted."""
        return self.estimated_cost if comparable(self.currency, account_currency) else None

    @property
    def ucs2_rows(self) -> tuple[int, ...]:
        """Every row whose text needs UCS-2 (70 characters a part instead of 160)."""
        return tuple(m.row for m in self.messages if m.encoding == "ucs2")

    def problem_groups(self) -> tuple[ProblemGroup, ...]:
        """Every problem row, grouped by reason, in the order each reason first appears."""
        return self._tally.problem_groups()

    def countries(self) -> tuple[CountryCost, ...]:
        """Messages, parts and cost per destination country, most messages first."""
        return self._tally.countries()

    def duration(self, rate_per_minute: float) -> float:
        """Seconds the send takes at ``rate_per_minute`` (0: no limit)."""
        return estimated_duration(len(self.messages), rate_per_minute)

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
        return self._tally.totals()

    @cached_property
    def _tally(self) -> Tally:
        tally = Tally(
            self.phone_column,
            self.currency,
            phone_columns=self.phone_columns or (self.phone_column,),
            other_phone_columns=self.other_phone_columns,
        )
        for _, items in self.lists():
            for item in items:
                tally.add(item)
        for row in self.already_sent:
            tally.add(AlreadySent(row))
        return tally


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
    phone = find_phone_columns(table, options.phone_columns)
    for item in iter_plan(table, table.rows, template, options, prices, phone=phone):
        lists[type(item)].append(item)
    messages = tuple(lists[Message])
    return Plan(
        rows=len(table.rows),
        phone_column=phone.label,
        messages=messages,
        problems=tuple(lists[Problem]),
        duplicates=tuple(lists[Duplicate]),
        already_sent=tuple(a.row for a in lists[AlreadySent]),
        currency=prices.currency if prices else None,
        shared_numbers=_shared_numbers(messages),
        phone_columns=phone.headers,
        other_phone_columns=phone.others,
    )


def _shared_numbers(messages: tuple[Message, ...]) -> tuple[SharedNumber, ...]:
    tally = Tally("", None)
    for message in messages:
        if message.shares_number_with is not None:
            tally.add(message)
    return tally.shared_numbers()


def iter_plan(
    table: Table,
    rows: Iterable[Row],
    template: MessageTemplate,
    options: PlanOptions | None = None,
    prices: PriceTable | None = None,
    *,
    phone_index: int | None = None,
    phone: PhoneColumns | None = None,
) -> Iterator[PlanItem]:
    """One item per row, in row order, consuming ``rows`` as it goes (for very large sheets).

    ``phone`` (or the single column ``phone_index``) says where the numbers are; without
    either, the columns are found from ``options`` and the first rows.
    """
    options = options or PlanOptions()
    rows = iter(rows)
    if phone is None and phone_index is not None:
        phone = PhoneColumns.of(table, [phone_index])
    if phone is None:
        head = list(islice(rows, SAMPLE_ROWS))
        phone = find_phone_columns(table, options.phone_columns, head)
        rows = chain(head, rows)
    planner = _RowPlanner(table, template, options, prices, phone)
    for row in rows:
        yield planner.plan(row)


class _RowPlanner:
    """Plans one row after another, remembering who already gets which text."""

    def __init__(
        self,
        table: Table,
        template: MessageTemplate,
        options: PlanOptions,
        prices: PriceTable | None,
        phone: PhoneColumns,
    ) -> None:
        self.template = template
        self.options = options
        self.phone = phone
        self.status_index = table.column_index(STATUS_COLUMN) if options.skip_sent else None
        self.recipients = Recipients(one_per_number=options.one_per_number)
        self.measure = _Measurer(options.smart_encoding, prices)
        self._all_empty = f"empty cells: no phone number in {' or '.join(map(repr, phone.headers))}"

    def plan(self, row: Row) -> PlanItem:
        values = row.values
        raw, column = self.phone.cell(values)
        if self._settled(values):
            self._remember_settled(raw, values, row.number)
            return AlreadySent(row.number)
        if column is None and len(self.phone.headers) > 1:
            return Problem(row.number, self.phone.label, None, self._all_empty)
        number = self._normalize(raw)
        if isinstance(number, PhoneProblem):
            column = column or self.phone.label
            return Problem(row.number, column, raw, number.reason, number.summary)
        if self.options.one_per_number:
            first = self.recipients.duplicate_of(number.e164, None)
            if first is not None:
                return Duplicate(row.number, number.e164, first, same_text=False)
        text = self.template.render(values)
        if isinstance(text, FieldProblem):
            return Problem(row.number, text.column, None, text.reason, text.summary)
        first = self.recipients.duplicate_of(number.e164, text)
        if first is not None:
            return Duplicate(row.number, number.e164, first)
        shares = self.recipients.shared_with(number.e164)
        self.recipients.add(number.e164, text, row.number)
        return self.measure(row.number, number, text, shares)

    def _normalize(self, raw: Cell) -> PhoneNumber | PhoneProblem:
        return normalize(
            raw,
            self.options.region,
            mobile_only=self.options.mobile_only,
            allow_landlines=self.options.allow_landlines,
        )

    def _settled(self, values: tuple[Cell, ...]) -> bool:
        index = self.status_index
        return index is not None and index < len(values) and _is_settled(values[index])

    def _remember_settled(self, raw: Cell, values: tuple[Cell, ...], row: int) -> None:
        """A row already sent still counts: a later row with its number and text is a duplicate."""
        number = normalize(raw, self.options.region, allow_landlines=True)
        if isinstance(number, PhoneNumber):
            text = self.template.render(values)
            self.recipients.add(number.e164, text if isinstance(text, str) else None, row)


class _Measurer:
    """Turns a rendered text into a Message; caches the analysis of repeated texts."""

    def __init__(self, smart: bool, prices: PriceTable | None) -> None:
        self._smart = smart
        self._prices = prices
        self._cache: dict[str, tuple[str, Any]] = {}

    def __call__(self, row: int, number: PhoneNumber, text: str, shares: int | None) -> Message:
        cached = self._cache.get(text)
        if cached is None:
            final = smart_replace(text) if self._smart else text
            cached = (final, analyze(final))
            if len(self._cache) < 10_000:
                self._cache[text] = cached
        final, info = cached
        cost = self._prices.estimate(number.e164, info.parts) if self._prices else None
        return Message(
            row,
            number.e164,
            final,
            info.encoding,
            info.length,
            info.parts,
            info.ucs2_chars,
            cost,
            destination(number),
            shares,
        )
