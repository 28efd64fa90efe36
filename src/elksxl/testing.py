"""Test helpers shipped for users of elksxl (like ``structlog.testing``): a virtual clock.

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

__all__ = ["FakeClock"]


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
