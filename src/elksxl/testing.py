"""Test helpers shipped for users of elksxl (like ``structlog.testing``): a virtual clock, and a
results sink that keeps what a campaign writes in memory.

``FakeClock`` satisfies :class:`elksxl.ratelimit.Clock`, so rate limits, pauses and retry
delays can be tested exactly and instantly::

    async def main() -> None:
        clock = FakeClock()
        bucket = TokenBucket(100, clock=clock)  # one start every 0.6 s
        for _ in range(101):
            await bucket.acquire()
        assert clock.now() == pytest.approx(60.0)  # virtual seconds; no real time passed

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from .table import RowResult

__all__ = ["FakeClock", "MemorySink"]


class MemorySink:
    """A :class:`~elksxl.table.ResultSink` in memory: what was set, and what was saved.

    ``saved`` and ``saved_campaign_id`` are what a reopened workbook would show; ``pending``
    what a crash before the next save would lose. A field left None keeps the saved value.
    """

    def __init__(self, campaign_id: str | None = None) -> None:
        self.pending: dict[int, RowResult] = {}
        self.saved: dict[int, RowResult] = {}
        self.campaign_id = campaign_id
        self.saved_campaign_id = campaign_id
        self.saves = 0

    def set(self, row: int, result: RowResult) -> None:
        earlier = self.pending.get(row)
        self.pending[row] = result if earlier is None else earlier.merged(result)

    def set_campaign_id(self, campaign_id: str | None) -> None:
        self.campaign_id = campaign_id

    def save(self) -> dict[int, RowResult]:
        for row, result in self.pending.items():
            earlier = self.saved.get(row)
            self.saved[row] = result if earlier is None else earlier.merged(result)
        self.pending = {}
        self.saved_campaign_id = self.campaign_id
        self.saves += 1
        return self.saved

    def statuses(self) -> dict[int, str | None]:
        """Excel row -> the saved ``SMS status``."""
        return {row: result.status for row, result in sorted(self.saved.items())}


class FakeClock:
    """Virtual monotonic time: ``sleep`` returns at once in real time, in deadline order.

    Each sleeper registers its deadline. A scheduler task wakes them one at a time, earliest
    deadline first, and moves virtual time forward to each deadline only after the other
    tasks have had ``settle`` turns of the event loop to run and register sleeps of their own
    at the current time. So a sleeper never wakes before its deadline, and concurrent
    sleepers wake in the order real time would wake them.

    Limitation: virtual time does not know about work outside the clock. A task that stays
    runnable for more than ``settle`` loop turns, or waits for real I/O (a socket, a
    thread), may find that virtual time has jumped past sleepers meanwhile; its own later
    sleeps then end late, never early. Code whose waits all go through the clock (such as
    :class:`~elksxl.ratelimit.TokenBucket`, whose waiters take turns under one lock) is
    timed exactly.
    """

    def __init__(self, start: float = 0.0, *, settle: int = 20) -> None:
        self._t = float(start)
        self._settle = settle
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._scheduler: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by hand; sleepers now due wake on the next turns."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._t += seconds

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        wakeup: asyncio.Future[None] = loop.create_future()
        deadline = self._t + max(0.0, seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._order), wakeup))
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = loop.create_task(self._wake_in_order())
        await wakeup

    async def _wake_in_order(self) -> None:
        while self._sleepers:
            for _ in range(self._settle):
                await asyncio.sleep(0)
            deadline, _, wakeup = heapq.heappop(self._sleepers)
            if wakeup.done():
                continue  # the sleeper was cancelled: time does not move on its behalf
            self._t = max(self._t, deadline)
            wakeup.set_result(None)
