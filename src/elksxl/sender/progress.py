"""Progress of a run: the :class:`Progress` events, built from the tally and the recent
accepts, after every settled message and every ``progress_interval`` seconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

from ..journal import State
from ..ratelimit import Clock
from .ledger import Tally
from .options import Progress

__all__ = ["ProgressMeter"]

_RATE_WINDOW: Final = 60.0  # seconds over which Progress.rate_per_minute is measured


class ProgressMeter:
    """Measures the run (start, accepts in the last minute) and emits :class:`Progress`."""

    def __init__(
        self,
        tally: Tally,
        clock: Clock,
        on_progress: Callable[[Progress], None] | None,
        interval: float,
        limit: float = 0.0,
    ) -> None:
        self.tally = tally
        self.limit = limit  # the limiter's messages per minute (0: none)
        self.clock = clock
        self.on_progress = on_progress
        self.interval = interval
        self.accepted_at: deque[float] = deque()  # clock times of recent accepts, for the rate
        self.started = clock.now()

    def accepted(self) -> None:
        """46elks accepted a message just now."""
        self.accepted_at.append(self.clock.now())

    async def tick(self) -> None:
        """Emit every ``interval`` seconds, until cancelled."""
        while True:
            await self.clock.sleep(self.interval)
            self.emit()

    def _rate(self, span: float) -> float:
        """Accepts per minute over the last minute.

        In the first minute the count is extrapolated from a short span, and the limiter's
        start-up burst would read as a rate above the limit that no 60 s window ever has:
        the limiter caps every window, so the shown rate is capped at its rate too.
        """
        rate = len(self.accepted_at) / span * 60 if span > 0 else 0.0
        return min(rate, self.limit) if self.limit > 0 and span < _RATE_WINDOW else rate

    def emit(self) -> None:
        if self.on_progress is None:
            return
        now = self.clock.now()
        while self.accepted_at and self.accepted_at[0] < now - _RATE_WINDOW:
            self.accepted_at.popleft()
        elapsed = now - self.started
        span = min(_RATE_WINDOW, elapsed)
        counts = self.tally.counts
        self.on_progress(
            Progress(
                total=sum(counts.values()),
                sent=counts[State.SENT] + counts[State.DELIVERED] + counts[State.FAILED],
                rejected=counts[State.REJECTED],
                unknown=counts[State.UNKNOWN],
                not_sent=counts[State.NOT_SENT],
                remaining=counts[State.PLANNED] + counts[State.IN_FLIGHT],
                cost=self.tally.cost,
                rate_per_minute=self._rate(span),
                elapsed=elapsed,
                rate_limited=self.tally.rate_limited,
            )
        )
