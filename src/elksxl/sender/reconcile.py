"""Reconciliation: whether a message of unknown outcome is in the 46elks history.

A message is looked up by recipient, text and time around its attempt. Found (and not
claimed by another message) -> it is marked ``sent``; provably absent -> it may be sent
again; a nearby SMS without its text (``dontlog``), or a history that cannot be read ->
undecided, it stays ``unknown``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from ..client import ElksClient, Sms
from ..errors import ElksxlError, StopCampaignError
from ..journal import Journal, JournalEntry
from ..ratelimit import Clock
from .halt import Halt
from .ledger import Ledger
from .options import SendOptions

if TYPE_CHECKING:
    from .retries import Backoff  # which uses this module

__all__ = ["Reconciler", "Verdict", "attempted"]


class Verdict(Enum):
    FOUND = "found"  # the history holds the message: it is marked sent
    ABSENT = "absent"  # provably not there: safe to send (again)
    UNDECIDED = "undecided"  # cannot tell (dontlog, lookup failed): stays unknown


def attempted(entry: JournalEntry) -> datetime:
    """When the message's last request left (or it was planned), as an aware datetime."""
    moment = entry.attempted_at or entry.planned_at
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Reconciler:
    """Looks ``unknown`` messages up in the 46elks history and records what it finds."""

    def __init__(
        self,
        journal: Journal,
        client: ElksClient,
        options: SendOptions,
        ledger: Ledger,
        halt: Halt,
        clock: Clock,
        backoff: Backoff,
    ) -> None:
        self.journal = journal
        self.client = client
        self.o = options
        self.ledger = ledger
        self.halt = halt
        self.clock = clock
        self.backoff = backoff

    async def reconcile(self, key: str) -> Verdict:
        """Look an ``unknown`` entry up in the history; FOUND marks it sent, ABSENT changes none."""
        entry = self.journal.entry(key)
        assert entry is not None  # every key here came from this journal
        found = await self._lookup(entry)
        if isinstance(found, ElksxlError):
            reason = (
                f"outcome unknown, and the 46elks history could not be read ({found}): "
                "run again to check it before anything is resent"
            )
            await self.ledger.undecided(key, reason)
            return Verdict.UNDECIDED
        matches, undecidable = found
        # Claims are checked again now, without an await since, so two lookups running side by
        # side can never both take the same SMS.
        sms = next((m for m in reversed(matches) if not self._claimed(m, key)), None)
        if sms is not None:  # the oldest match: the earliest attempt that got through
            await self.ledger.mark_sent(key, sms)
            return Verdict.FOUND
        if undecidable:
            reason = (
                f"outcome unknown: the 46elks history has a message to {entry.to} without its "
                "text (dontlog), so whether this one was sent cannot be told; check and decide"
            )
            await self.ledger.undecided(key, reason)
            return Verdict.UNDECIDED
        return Verdict.ABSENT

    async def _lookup(self, entry: JournalEntry) -> tuple[list[Sms], bool] | ElksxlError:
        """The history search, tried again while it fails; the last failure when it never works."""
        failure: ElksxlError | None = None
        for attempt in range(1, self.o.max_attempts + 1):
            if attempt > 1:
                await self.clock.sleep(self.backoff.delay(attempt - 1))
            try:
                return await self._search(entry)
            except StopCampaignError as exc:
                self.halt.stop(exc)
                return exc
            except ElksxlError as exc:  # a failed lookup changed nothing at 46elks
                failure = exc
        assert failure is not None
        return failure

    async def _search(self, entry: JournalEntry) -> tuple[list[Sms], bool]:
        """Unclaimed outgoing SMS to ``entry.to`` near its attempt with its text, newest first;
        and whether a nearby SMS has no text to compare (dontlog): then absence is unprovable.
        """
        moment = attempted(entry)
        since = moment - self.o.reconcile_window
        until = moment + self.o.reconcile_window
        matches: list[Sms] = []
        undecidable = False
        async for sms in self.client.history(to=entry.to, end=since):
            if sms.created is not None and sms.created < since:
                break  # newest first: everything further is older still
            if not self._candidate(sms, entry, until):
                continue
            if sms.message is None:
                undecidable = True
            elif sms.message == entry.text:
                matches.append(sms)
        return matches, undecidable

    def _candidate(self, sms: Sms, entry: JournalEntry, until: datetime) -> bool:
        if sms.to != entry.to or not sms.direction.startswith("outgoing"):
            return False
        if sms.created is not None and sms.created > until:
            return False
        if sms.cost is None and sms.estimated_cost is not None:
            return False  # a dry run, should the history ever list one: nothing was sent
        return not self._claimed(sms, entry.key)

    def _claimed(self, sms: Sms, key: str) -> bool:
        """Whether ``sms`` belongs to another message (of any campaign in this journal)."""
        return self.ledger.owned_by_other(sms.id, key)
