"""One run of a campaign, phase by phase, and :class:`Sender`, which starts it.

The phases, in order:

1. reconcile leftovers: ``in_flight`` and ``unknown`` messages of earlier runs are looked up
   in the history before anything is sent (found -> ``sent``, absent -> ``planned``);
2. give back ``not_sent``: messages a stop left behind go out in this run;
3. send planned: workers, sized to the rate, send until the queue is empty or the run halts;
4. finish stopped: after a stop every message still ``planned`` becomes ``not_sent`` with the
   reason. A cancel halts too, but leaves them ``planned`` for a later run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from ..client import ElksClient
from ..errors import AuthenticationError
from ..journal import Journal, JournalEntry, State
from ..ratelimit import Clock, MonotonicClock, TokenBucket, concurrency_for
from .halt import Halt
from .ledger import Ledger, Tally
from .options import (
    AUTHENTICATION_REASON,
    OUT_OF_CREDITS_REASON,
    Progress,
    SendOptions,
    SendSummary,
)
from .progress import ProgressMeter
from .reconcile import Reconciler, Verdict, attempted
from .retries import Backoff, Dispatcher
from .writer import JournalWriter

__all__ = ["Sender"]

_LEFTOVER_REASON: Final = "the previous run ended before 46elks answered"


class Sender:
    """Sends the planned messages of a campaign. One ``run`` at a time per instance.

    Reads go through ``journal``; writes go through a second connection to the same file on
    a dedicated thread (see :class:`~elksxl.sender.writer.JournalWriter`), each awaited before
    the step that depends on it.
    """

    def __init__(
        self,
        journal: Journal,
        client: ElksClient,
        limiter: TokenBucket,
        options: SendOptions,
        *,
        clock: Clock | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_settled: Callable[[JournalEntry], None] | None = None,
    ) -> None:
        self._journal = journal
        self._client = client
        self._limiter = limiter
        self._options = options
        self._clock = clock or MonotonicClock()
        self._on_progress = on_progress
        self._on_settled = on_settled

    async def run(self, campaign: str, *, cancel: asyncio.Event | None = None) -> SendSummary:
        """Reconcile leftovers, give ``not_sent`` back, send every planned message.

        Setting ``cancel`` stops taking new messages; requests in flight finish and are
        recorded, the rest stays ``planned`` for a later run.
        """
        return await _Run(self, campaign, cancel).execute()


class _Run:
    """One ``Sender.run``: wires the parts together and runs the phases."""

    def __init__(self, sender: Sender, campaign: str, cancel: asyncio.Event | None) -> None:
        self.journal = sender._journal
        self.write = JournalWriter(sender._journal.path)
        self.limiter = sender._limiter
        self.o = sender._options
        self.clock = sender._clock
        self.campaign = campaign
        self.cancel = cancel
        self.halt = Halt()  # set by cancel or a stop: take no new messages
        self.tally = Tally()
        self.meter = ProgressMeter(
            self.tally,
            self.clock,
            sender._on_progress,
            self.o.progress_interval,
            limit=sender._limiter.rate_per_minute,
        )
        self.ledger = Ledger(self.journal, self.write, self.tally, self.meter, sender._on_settled)
        backoff = Backoff(self.o)
        self.reconciler = Reconciler(
            self.journal, sender._client, self.o, self.ledger, self.halt, self.clock, backoff
        )
        self.dispatcher = Dispatcher(
            sender._client,
            self.limiter,
            self.o,
            self.ledger,
            self.reconciler,
            self.halt,
            self.clock,
            backoff,
        )

    async def execute(self) -> SendSummary:
        self.tally.counts.update(self.journal.counts(self.campaign))
        self.tally.cost = self.journal.total_cost(self.campaign)
        helpers = [asyncio.create_task(self.halt.follow(self.cancel))]
        if self.meter.on_progress is not None:
            helpers.append(asyncio.create_task(self.meter.tick()))
        try:
            await self._reconcile_leftovers()
            await self._give_back_not_sent()
            if not self.halt.is_set():
                await self._send_planned()
            await self._finish_stopped()
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self.write.aclose()
        self.meter.emit()
        return SendSummary(
            counts=dict(self.tally.counts),
            cost=self.tally.cost,
            cancelled=self.cancel is not None and self.cancel.is_set(),
            stopped=self.halt.stopped,
            rate_limited=self.tally.rate_limited,
            resent=self.tally.resent,
        )

    # -- the phases -------------------------------------------------------------------------

    async def _reconcile_leftovers(self) -> None:
        """``in_flight`` and ``unknown`` entries of earlier runs: look each up before any send."""
        leftovers = self.journal.entries(self.campaign, {State.IN_FLIGHT, State.UNKNOWN})
        if not leftovers:
            return
        self.tally.know(leftovers)
        for entry in leftovers:
            if entry.state is State.IN_FLIGHT:
                await self.ledger.mark(entry.key, State.UNKNOWN, _LEFTOVER_REASON)
        # A request of a process that just died may still be on its way into the history.
        newest = max(attempted(entry) for entry in leftovers)
        wait = self.o.reconcile_delay - (datetime.now(UTC) - newest).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)
        gate = asyncio.Semaphore(self._concurrency(len(leftovers)))

        async def settle(entry: JournalEntry) -> None:
            async with gate:
                if await self.reconciler.reconcile(entry.key) is Verdict.ABSENT:
                    await self.ledger.mark(entry.key, State.PLANNED)
                    self.tally.resent += 1

        await asyncio.gather(*(settle(entry) for entry in leftovers))

    async def _give_back_not_sent(self) -> None:
        """Messages a stop left ``not_sent`` go out in this run."""
        entries = self.journal.entries(self.campaign, {State.NOT_SENT})
        if entries:
            await self.ledger.give_back(entries)

    async def _send_planned(self) -> None:
        planned = self.journal.entries(self.campaign, {State.PLANNED})
        self.tally.know(planned)
        queue = deque(planned)
        self.meter.emit()
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._concurrency(len(queue))):
                    group.create_task(self.dispatcher.work(queue))
        except ExceptionGroup as failed:
            # A worker's unexpected error cancels the others (their messages stay in_flight,
            # for the next run to reconcile); callers get that error itself, not a group.
            raise failed.exceptions[0] from None

    async def _finish_stopped(self) -> None:
        """After a stop, everything still planned becomes ``not_sent`` with the reason."""
        stopped = self.halt.stopped
        if stopped is None:
            return
        reason = (
            AUTHENTICATION_REASON
            if isinstance(stopped, AuthenticationError)
            else OUT_OF_CREDITS_REASON
        )
        entries = self.journal.entries(self.campaign, {State.PLANNED})
        if entries:
            await self.ledger.not_sent(entries, reason)

    def _concurrency(self, messages: int) -> int:
        """Workers for ``messages``: enough that latency does not lower the configured rate."""
        size = self.o.concurrency or concurrency_for(
            self.limiter.rate_per_minute, self.o.expected_latency
        )
        return max(1, min(size, messages))
