"""The sender's bookkeeping: every state change goes to the journal and to the in-memory
tally together, and every settled message is announced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..client import Sms
from ..journal import Journal, JournalEntry, State
from .writer import JournalWriter

if TYPE_CHECKING:
    from .progress import ProgressMeter

__all__ = ["Ledger", "Tally"]


@dataclass(slots=True)
class Tally:
    """The campaign's counts kept in memory, so progress never re-reads the journal."""

    states: dict[str, State] = field(default_factory=dict)
    counts: dict[State, int] = field(default_factory=lambda: dict.fromkeys(State, 0))
    cost: int = 0
    rate_limited: int = 0
    resent: int = 0

    def know(self, entries: Collection[JournalEntry]) -> None:
        for entry in entries:
            self.states[entry.key] = entry.state

    def move(self, key: str, state: State) -> None:
        self.counts[self.states[key]] -= 1
        self.counts[state] += 1
        self.states[key] = state


class Ledger:
    """Journal and tally, always together: each write is awaited (durable) before the tally
    moves. Also the SMS ids this run has claimed for a message, and who hears of settles.
    """

    def __init__(
        self,
        journal: Journal,
        write: JournalWriter,
        tally: Tally,
        meter: ProgressMeter,
        on_settled: Callable[[JournalEntry], None] | None,
    ) -> None:
        self.journal = journal
        self.write = write
        self.tally = tally
        self.meter = meter
        self.on_settled = on_settled
        self.claimed: set[str] = set()  # SMS ids taken by reconciliation in this run

    async def in_flight(self, key: str) -> None:
        """Commit the message as in flight: call before its request leaves."""
        await self.write(lambda journal: journal.mark_in_flight(key))
        self.tally.move(key, State.IN_FLIGHT)

    async def mark(self, key: str, state: State, reason: str = "") -> None:
        match state:
            case State.PLANNED:
                await self.write(lambda journal: journal.mark_planned([key]))
            case State.UNKNOWN:
                await self.write(lambda journal: journal.mark_unknown(key, reason))
            case State.REJECTED:
                await self.write(lambda journal: journal.mark_rejected(key, reason))
            case State.NOT_SENT:
                await self.write(lambda journal: journal.mark_not_sent([key], reason))
            case _:
                raise ValueError(f"{state} has its own call")
        self.tally.move(key, state)

    async def mark_sent(self, key: str, sms: Sms) -> None:
        sms_id = sms.id
        assert sms_id is not None  # the client returns sends with an id; claims skip others
        self.claimed.add(sms_id)
        at = sms.created or datetime.now(UTC)
        await self.write(
            lambda journal: journal.mark_sent(
                key, elks_id=sms_id, parts=sms.parts, cost=sms.cost, at=at
            )
        )
        self.tally.move(key, State.SENT)
        self.tally.cost += sms.cost or 0
        self.meter.accepted()
        self.settled(key)

    async def rejected(self, key: str, reason: str) -> None:
        await self.mark(key, State.REJECTED, reason)
        self.settled(key)

    async def undecided(self, key: str, reason: str) -> None:
        await self.mark(key, State.UNKNOWN, reason)
        self.settled(key)

    async def give_up(self, key: str, reason: str) -> None:
        if self.tally.states[key] is State.UNKNOWN:
            await self.mark(key, State.PLANNED)  # the journal allows not_sent only from here
        await self.mark(key, State.NOT_SENT, reason)
        self.settled(key)

    async def give_back(self, entries: Collection[JournalEntry]) -> None:
        """Make ``entries`` planned again, all in one write."""
        self.tally.know(entries)
        keys = [entry.key for entry in entries]
        await self.write(lambda journal: journal.mark_planned(keys))
        for key in keys:
            self.tally.move(key, State.PLANNED)

    async def not_sent(self, entries: Collection[JournalEntry], reason: str) -> None:
        """Settle ``entries`` as not sent with ``reason``, all in one write."""
        self.tally.know(entries)
        keys = [entry.key for entry in entries]
        await self.write(lambda journal: journal.mark_not_sent(keys, reason))
        for key in keys:
            self.tally.move(key, State.NOT_SENT)
            self.settled(key)

    def owned_by_other(self, sms_id: str | None, key: str) -> bool:
        """Whether the SMS ``sms_id`` belongs to a message other than ``key`` (of any campaign
        in this journal), or has no id to tell."""
        if sms_id is None or sms_id in self.claimed:
            return True
        owner = self.journal.by_elks_id(sms_id)
        return owner is not None and owner.key != key

    def settled(self, key: str) -> None:
        if self.on_settled is not None:
            entry = self.journal.entry(key)
            assert entry is not None
            self.on_settled(entry)
        self.meter.emit()
