"""From the journal (the source of truth) to the cells of a sheet, and from a plan to the journal.

Owns the rules that decide which journal entry a sheet row stands for (the same row and
recipient, or the same recipient and text when rows have moved), what a row's result cells
say, and the batching of results into a sink while a campaign runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from .journal import Journal, JournalEntry, PlannedMessage, State, message_key
from .plan import Message, Plan
from .pricing import to_currency
from .table import ResultSink, RowResult

__all__ = [
    "MAY_HAVE_ARRIVED",
    "PeriodicSaver",
    "arrived_matcher",
    "journal_results",
    "plan_into_journal",
    "problem_results",
    "row_result",
    "without_arrived",
]

MAY_HAVE_ARRIVED = frozenset(
    {State.SENT, State.DELIVERED, State.IN_FLIGHT, State.UNKNOWN, State.FAILED}
)
"""States of a message that may be on someone's phone: never planned again."""

_STATUS_WORDS = {
    State.SENT: "sent",
    State.DELIVERED: "delivered",
    State.FAILED: "failed",
    State.REJECTED: "failed",
    State.UNKNOWN: "unknown",
    State.IN_FLIGHT: "unknown",
    State.NOT_SENT: "not sent",
    State.PLANNED: "not sent",
}


def arrived_matcher(entries: Iterable[JournalEntry]) -> Callable[[int, str, str], bool]:
    """A test: may the message (row, to, text) already have arrived, by the journal?

    True for the same row and recipient (the template was edited between runs) and for the
    same recipient and text under another row number (rows were inserted or sorted).
    """
    arrived = [e for e in entries if e.state in MAY_HAVE_ARRIVED]
    rows = {(e.row, e.to) for e in arrived}
    texts = {(e.to, e.text) for e in arrived}
    return lambda row, to, text: (row, to) in rows or (to, text) in texts


def plan_into_journal(plan: Plan, journal: Journal, campaign: str) -> int:
    """Record every planned message (idempotent) and drop stale unsent entries of earlier runs.

    A message that may have arrived is never planned again (see :func:`arrived_matcher`).
    Returns how many messages were new to the journal.
    """
    existing = journal.entries(campaign)
    arrived = arrived_matcher(existing)
    wanted = [
        PlannedMessage(m.row, m.to, m.text)
        for m in plan.messages
        if not arrived(m.row, m.to, m.text)
    ]
    wanted_keys = {message_key(campaign, p.row, p.to, p.text) for p in wanted}
    stale = [
        e.key
        for e in existing
        if e.state in (State.PLANNED, State.NOT_SENT) and e.key not in wanted_keys
    ]
    journal.discard(stale)
    return journal.add_planned(campaign, wanted)


def row_result(entry: JournalEntry) -> RowResult:
    """The result cells of a journal entry, as written into the sheet."""
    error = entry.error
    if entry.state is State.PLANNED:
        error = "not sent yet (cancelled): run the campaign again to send"
    elif entry.state in (State.UNKNOWN, State.IN_FLIGHT) and not error:
        error = "outcome unknown: run again to reconcile with 46elks"
    elif entry.state is State.FAILED and not error:
        error = "not delivered: 46elks reports that the phone network could not deliver it"
    return RowResult(
        status=_STATUS_WORDS[entry.state],
        sms_id=entry.elks_id,
        parts=entry.parts,
        cost=None if entry.cost is None else to_currency(entry.cost),
        error=error or "",
        sent_at=entry.settled_at if entry.elks_id else None,
        delivered_at=entry.delivered_at,
    )


def problem_results(plan: Plan) -> dict[int, RowResult]:
    """Result cells for rows that are not sent: invalid numbers, empty fields, duplicates."""
    results = {p.row: RowResult(status="invalid", error=p.reason) for p in plan.problems}
    for d in plan.duplicates:
        results[d.row] = RowResult(status="duplicate", error=f"same number as row {d.first_row}")
    return results


def journal_results(
    journal: Journal, campaign: str, messages: Iterable[Message] | None = None
) -> dict[int, RowResult]:
    """Results per row from the journal.

    With ``messages`` (the current plan), each planned row gets the result of its journal
    entry: same row and recipient, or same recipient and text when rows have moved. Where
    several entries fit, one that may have arrived wins over one that surely did not.
    """
    entries = journal.entries(campaign)
    if messages is None:
        return {row: row_result(entry) for row, entry in _best_by(entries, lambda e: e.row)}
    by_row = dict(_best_by(entries, lambda e: (e.row, e.to)))
    by_text = dict(_best_by(entries, lambda e: (e.to, e.text)))
    results: dict[int, RowResult] = {}
    for m in messages:
        found = [e for e in (by_row.get((m.row, m.to)), by_text.get((m.to, m.text))) if e]
        if found:
            results[m.row] = row_result(max(found, key=_weight))
    return results


def _weight(entry: JournalEntry) -> tuple[bool, datetime]:
    return entry.state in MAY_HAVE_ARRIVED, entry.attempted_at or entry.planned_at


def _best_by(
    entries: Iterable[JournalEntry], key: Callable[[JournalEntry], object]
) -> Iterator[tuple[Any, JournalEntry]]:
    best: dict[object, JournalEntry] = {}
    for entry in entries:
        k = key(entry)
        if k not in best or _weight(entry) > _weight(best[k]):
            best[k] = entry
    return iter(best.items())


class PeriodicSaver:
    """Applies settled rows to a sink in batches and saves it, one save at a time.

    With ``in_thread`` the sink's work runs off the event loop (a 100,000-row workbook takes
    seconds to save, which would stall every request in flight); sinks bound to the thread
    that made them (Excel through COM) pass False.
    """

    def __init__(self, sink: ResultSink, interval: float, *, in_thread: bool = True) -> None:
        self._sink = sink
        self._interval = interval
        self._in_thread = in_thread
        self._pending: dict[int, RowResult] = {}
        self._lock = asyncio.Lock()

    def add(self, row: int, result: RowResult) -> None:
        self._pending[row] = result

    def add_all(self, results: Mapping[int, RowResult]) -> None:
        self._pending.update(results)

    async def flush(self) -> None:
        """Write everything pending and save; durable when it returns."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            if self._in_thread:
                await asyncio.to_thread(self._apply_and_save, batch)
            else:
                self._apply_and_save(batch)

    def _apply_and_save(self, batch: Mapping[int, RowResult]) -> None:
        for row, result in batch.items():
            self._sink.set(row, result)
        self._sink.save()

    async def run(self) -> None:
        """Flush every ``interval`` seconds while something is pending, until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            if self._pending:
                await self.flush()


def without_arrived(
    plan: Plan, arrived: Callable[[int, str, str], bool]
) -> tuple[Plan, tuple[Message, ...]]:
    """The plan with messages the journal says may have arrived moved to ``already_sent``,
    and those messages."""
    gone = tuple(m for m in plan.messages if arrived(m.row, m.to, m.text))
    if not gone:
        return plan, ()
    rows = {m.row for m in gone}
    kept = replace(
        plan,
        messages=tuple(m for m in plan.messages if m.row not in rows),
        already_sent=tuple(sorted((*plan.already_sent, *rows))),
    )
    return kept, gone
