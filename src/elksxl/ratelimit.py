"""Client-side pacing of sends: a token bucket with an injected clock, and concurrency sizing.

46elks' documented default is 100 SMS per minute per account, and whether it queues or
refuses the excess is unclear, so elksxl paces itself: :class:`TokenBucket` guarantees that
in no window of 60 seconds more than ``rate_per_minute + burst`` requests start.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Protocol

__all__ = ["Clock", "MonotonicClock", "TokenBucket", "concurrency_for"]

_WINDOW = 60.0  # seconds: rates are per minute


class Clock(Protocol):
    """Where the limiter reads time and waits; tests inject ``elksxl.testing.FakeClock``."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TokenBucket:
    """A token bucket: ``burst`` tokens at most, refilled continuously at ``rate_per_minute``.

    :meth:`acquire` waits until a token is available and takes it; waiters are served in
    arrival order. ``rate_per_minute <= 0`` (or infinite) means unlimited. :meth:`pause`
    (after an HTTP 429) holds everyone back and empties the bucket. Use one bucket within one
    event loop.

    Implemented as the equivalent GCRA ("virtual scheduling"): instead of a token count it
    keeps ``_tat``, the time at which the bucket would be empty-and-due, so that
    ``tokens(now) = burst - max(0, _tat - now) / interval``. One float instead of a count
    refilled by repeated float additions keeps waits exact, which the window guarantee
    needs.

    Late wake-ups keep the schedule. A waiter never wakes exactly on time (asyncio rounds
    its waits up to whole milliseconds, a busy loop adds more), and restarting the schedule
    from the actual wake-up would lose that lateness for good on every grant: about 2% of
    the rate at 20 per second. So a start that is late by less than ``_catch_up`` still
    advances ``_tat`` by exactly one interval from where it was; only a bucket that was
    idle for longer restarts from ``now``. The catch-up is bounded by half the slack the
    window guarantee leaves, which is what keeps the guarantee: with ``N = floor(rate) +
    burst`` starts allowed per window, ``_tat`` grows by at least one interval per start and
    each start is at most ``_catch_up`` behind it, so any ``N + 1`` consecutive starts span
    more than ``(floor(rate) + 1) * interval - _catch_up`` seconds, which is more than 60.

    Catching up can still put one start more into a half-open window ``[t, t + 60)`` than a
    punctual schedule would (a late start followed by punctual ones): ``rate + burst`` where
    punctual GCRA gives ``rate + burst - 1``. So the bucket also keeps the times of the starts
    of the last 60 seconds and lets a start happen no earlier than 60 s after the one
    ``_window_size`` starts back: no half-open window holds more than ``ceil(rate) + burst -
    1`` starts, i.e. ``rate`` for the default burst. That costs at most the lateness of one
    start per minute.
    """

    def __init__(
        self, rate_per_minute: float, *, burst: int = 1, clock: Clock | None = None
    ) -> None:
        if math.isnan(rate_per_minute):
            raise ValueError("rate_per_minute must be a number")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._rate = float(rate_per_minute)
        self._burst = burst
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        unlimited = self._rate <= 0 or math.isinf(self._rate)
        self._interval = 0.0 if unlimited else 60.0 / self._rate
        # A start is allowed while _tat - now <= _tolerance, i.e. while a token is left.
        self._tolerance = (burst - 1) * self._interval
        self._catch_up = _catch_up(self._rate, self._interval)
        self._window_size = 0 if unlimited else math.ceil(self._rate) + burst - 1
        self._recent: deque[float] = deque()  # start times of the last 60 s, oldest first
        self._tat = -math.inf
        self._paused_until = -math.inf
        # Waiters queue on the lock, and the head waits while holding it: asyncio.Lock is
        # FIFO, so acquirers start in arrival order and a late arrival cannot overtake.
        self._lock = asyncio.Lock()

    @property
    def rate_per_minute(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    async def acquire(self) -> None:
        """Wait until a request may start, and count it as started."""
        if self._interval == 0.0 and self._clock.now() >= self._paused_until:
            return
        async with self._lock:
            while True:
                now = self._clock.now()
                start_at = max(self._paused_until, self._tat - self._tolerance, self._window_due())
                if now >= start_at:
                    break
                # Loop rather than trust one sleep: pause() may move start_at meanwhile.
                await self._clock.sleep(start_at - now)
            # Late by less than the catch-up: keep the schedule (see the class docstring).
            base = self._tat if now - self._tat < self._catch_up else now
            self._tat = base + self._interval
            self._remember(now)

    def _window_due(self) -> float:
        """When the window of the last ``_window_size`` starts lets another one start."""
        if self._window_size == 0 or len(self._recent) < self._window_size:
            return -math.inf
        return self._recent[0] + _WINDOW

    def _remember(self, start: float) -> None:
        if self._window_size == 0:
            return
        self._recent.append(start)
        # Starts 60 s old no longer bound anything: dropping them keeps memory to one
        # minute of traffic, however high the rate.
        while len(self._recent) > self._window_size or self._recent[0] <= start - _WINDOW:
            self._recent.popleft()

    def pause(self, seconds: float) -> None:
        """Let nobody start before now + ``seconds``, then restart at the rate, not a burst."""
        if not math.isfinite(seconds):
            raise ValueError(f"pause needs a finite number of seconds, not {seconds}")
        until = max(self._paused_until, self._clock.now() + max(0.0, seconds))
        self._paused_until = until
        # Leave at most one token at `until`: one request may start then, the next one an
        # interval later. _tat only ever grows here, so a pause never allows more starts
        # than the bucket would have without it.
        self._tat = max(self._tat, until + self._tolerance)


def _catch_up(rate_per_minute: float, interval: float) -> float:
    """How late a start may be and still keep the schedule, without breaking the 60 s bound.

    ``N = floor(rate) + burst`` starts fit in a window; a schedule of one start per
    ``interval`` spreads ``N + 1`` of them over ``(floor(rate) + 1) * interval`` seconds,
    which exceeds 60 by ``(1 - frac(rate)) * interval`` (a whole interval for a whole-number
    rate). Half of that slack may be spent on lateness; the other half stays as a margin, so
    that float noise cannot put two starts exactly 60 s apart.
    """
    if interval == 0.0:
        return 0.0
    slack = (1.0 - (rate_per_minute - math.floor(rate_per_minute))) * interval
    return slack / 2.0


def concurrency_for(
    rate_per_minute: float,
    latency_seconds: float,
    *,
    minimum: int = 1,
    maximum: int = 64,
    safety: float = 2.0,
) -> int:
    """How many requests must be in flight at once for ``latency_seconds`` not to lower the rate.

    By Little's law, starting ``rate/60`` requests per second that each take ``latency``
    seconds keeps ``rate/60 * latency`` of them in flight on average; with fewer workers the
    achieved rate drops to ``workers / latency``. ``safety`` covers the spread of latencies
    (a slow tail). The result is clamped to ``[minimum, maximum]``; an unlimited rate gets
    ``maximum``.
    """
    if minimum < 1 or maximum < minimum:
        raise ValueError(f"need 1 <= minimum <= maximum, not {minimum}..{maximum}")
    if not rate_per_minute > 0 or math.isinf(rate_per_minute):
        return maximum
    if not latency_seconds > 0:
        return minimum
    # Round first so that 1.0000000000000002 (float noise) does not become 2.
    needed = math.ceil(round(rate_per_minute / 60.0 * latency_seconds * safety, 9))
    return max(minimum, min(maximum, needed))
