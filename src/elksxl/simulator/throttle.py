"""The simulator's per-account throughput limit: a token bucket that can reject or queue."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Throttle"]


class Throttle:
    """``burst`` tokens refilled continuously at ``rate_per_minute``; rate 0 means unlimited.

    ``try_take`` is the 429 behaviour (take a token now or say how long to wait);
    ``reserve`` is the queue behaviour (always take, possibly a future token, and say when
    that token comes due), so queued sends go out in order at the account rate.
    """

    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        return now

    def try_take(self) -> float:
        """Take a token and return 0.0, or take nothing and return the seconds until one exists."""
        if self._rate <= 0:
            return 0.0
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate

    def reserve(self) -> float:
        """Take the next token, even one not yet refilled; return the seconds until it is due."""
        if self._rate <= 0:
            return 0.0
        self._refill()
        self._tokens -= 1
        # Tokens below zero are promises: the n-th promise is due n/rate seconds from now.
        return max(0.0, -self._tokens / self._rate)
