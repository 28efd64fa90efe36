"""The token bucket and the fake clock, in virtual time: exact and instant."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.ratelimit import Clock, MonotonicClock, TokenBucket, concurrency_for
from elksxl.testing import FakeClock


def run_acquirers(bucket: TokenBucket, clock: Clock, tasks: int, each: int) -> list[float]:
    """Start ``tasks`` concurrent acquirers taking ``each`` tokens; return the start times."""

    async def main() -> list[float]:
        starts: list[float] = []

        async def worker() -> None:
            for _ in range(each):
                await bucket.acquire()
                starts.append(clock.now())

        await asyncio.gather(*(worker() for _ in range(tasks)))
        return starts

    return asyncio.run(main())


def most_in_any_window(starts: list[float], seconds: float = 60.0) -> int:
    """The largest number of starts in any closed window ``[t, t + seconds]``."""
    ordered = sorted(starts)
    # The busiest window can always be slid right until it begins at a start.
    return max(
        (bisect.bisect_right(ordered, t + seconds) - i for i, t in enumerate(ordered)), default=0
    )


def assert_within_rate(starts: list[float], rate: float, burst: int) -> None:
    """No 60-second window holds more than ``rate + burst`` starts.

    Checked also on a window a hair longer (with the bound scaled to it), so that float
    noise in the start times cannot hide a start that lands at exactly t + 60.
    """
    assert most_in_any_window(starts) <= rate + burst
    longer = 60.0 + 1e-6
    assert most_in_any_window(starts, longer) <= rate * longer / 60.0 + burst


def most_in_any_half_open_window(starts: list[float], seconds: float = 60.0) -> int:
    """The largest number of starts in any window ``[t, t + seconds)``, as a server counts."""
    ordered = sorted(starts)
    return max(
        (bisect.bisect_left(ordered, t + seconds) - i for i, t in enumerate(ordered)), default=0
    )


def test_most_in_any_window_counts_a_closed_window() -> None:
    assert most_in_any_window([0.0, 30.0, 60.0, 60.5]) == 3
    assert most_in_any_window([0.0, 60.0, 120.0], 59.9) == 1
    assert most_in_any_window([]) == 0
    assert most_in_any_half_open_window([0.0, 30.0, 60.0, 60.5]) == 3  # [30, 90)
    assert most_in_any_half_open_window([0.0, 60.0, 120.0]) == 1


# -- pacing ------------------------------------------------------------------------------------


def test_acquisitions_at_a_rate_take_the_expected_virtual_time() -> None:
    clock = FakeClock()
    starts = run_acquirers(TokenBucket(100, clock=clock), clock, tasks=1, each=101)
    assert starts[0] == 0.0
    assert starts[1] == pytest.approx(0.6)
    assert starts[-1] == pytest.approx(60.0)
    assert all(b - a == pytest.approx(0.6) for a, b in itertools.pairwise(starts))


def test_a_burst_starts_at_once_then_the_rate_takes_over() -> None:
    clock = FakeClock()
    starts = run_acquirers(TokenBucket(30, burst=5, clock=clock), clock, tasks=1, each=25)
    assert starts[:5] == [0.0] * 5
    assert starts[5:] == pytest.approx([2.0 * i for i in range(1, 21)])


def test_an_idle_bucket_refills_to_its_burst_but_no_further() -> None:
    async def main() -> list[float]:
        clock = FakeClock()
        bucket = TokenBucket(60, burst=3, clock=clock)
        for _ in range(3):
            await bucket.acquire()
        await clock.sleep(100)  # long enough for 100 tokens, but the bucket holds 3
        starts = []
        for _ in range(5):
            await bucket.acquire()
            starts.append(clock.now())
        return starts

    assert asyncio.run(main()) == pytest.approx([100, 100, 100, 101, 102])


@pytest.mark.parametrize(
    ("rate", "burst", "tasks"),
    [(100, 1, 1), (100, 1, 8), (100, 10, 8), (60, 3, 20), (7.5, 2, 3), (600, 50, 32)],
)
def test_no_60_second_window_holds_more_starts_than_rate_plus_burst(
    rate: float, burst: int, tasks: int
) -> None:
    clock = FakeClock()
    each = math.ceil(3 * (rate + burst) / tasks)  # about three minutes of traffic
    starts = run_acquirers(TokenBucket(rate, burst=burst, clock=clock), clock, tasks, each)
    assert len(starts) == tasks * each
    assert_within_rate(starts, rate, burst)
    # ...and the limiter is not needlessly slow: the first minute is used in full.
    assert most_in_any_window(starts) >= math.floor(rate) + burst - 1


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=1200, allow_nan=False),
    burst=st.integers(min_value=1, max_value=20),
    tasks=st.integers(min_value=1, max_value=12),
    total=st.integers(min_value=1, max_value=250),
    pause_after=st.one_of(st.none(), st.integers(min_value=0, max_value=250)),
    pause_seconds=st.floats(min_value=0, max_value=90, allow_nan=False),
)
def test_property_rate_plus_burst_bounds_every_60_second_window(
    rate: float, burst: int, tasks: int, total: int, pause_after: int | None, pause_seconds: float
) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, burst=burst, clock=clock)

    async def main() -> list[float]:
        starts: list[float] = []

        async def worker() -> None:
            while len(starts) < total:
                await bucket.acquire()
                starts.append(clock.now())
                if len(starts) == pause_after:
                    bucket.pause(pause_seconds)

        await asyncio.gather(*(worker() for _ in range(tasks)))
        return starts

    starts = asyncio.run(main())
    assert starts == sorted(starts)
    assert_within_rate(starts, rate, burst)


class LateClock:
    """A FakeClock whose every sleep ends ``lateness()`` seconds late, like a real event loop.

    asyncio rounds its waits up to whole milliseconds and a busy loop wakes later still; a
    limiter that loses each wake-up's lateness falls short of its rate by that much.
    """

    def __init__(self, lateness: Callable[[], float]) -> None:
        self.inner = FakeClock()
        self.lateness = lateness

    def now(self) -> float:
        return self.inner.now()

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds + self.lateness())


def oversleeping(most: float, seed: int) -> LateClock:
    """A clock whose sleeps end late by a random 0..``most`` seconds."""
    rng = random.Random(seed)
    return LateClock(lambda: rng.uniform(0.0, most))


def test_oversleeping_clock_never_wakes_early_and_at_most_the_given_amount_late() -> None:
    async def main() -> list[float]:
        clock = oversleeping(0.002, seed=1)
        lengths = []
        for _ in range(200):
            began = clock.now()
            await clock.sleep(0.05)
            lengths.append(clock.now() - began)
        return lengths

    lengths = asyncio.run(main())
    assert all(0.05 <= length <= 0.052 for length in lengths)
    assert max(lengths) - min(lengths) > 0.001  # really random, not a fixed delay


def test_late_wake_ups_do_not_cost_rate_and_never_break_the_window_bound() -> None:
    rate, burst, latency, minutes = 1200.0, 1, 0.25, 10
    clock = oversleeping(0.002, seed=7)
    bucket = TokenBucket(rate, burst=burst, clock=clock)
    workers = concurrency_for(rate, latency)

    async def main() -> list[float]:
        starts: list[float] = []

        async def worker() -> None:
            while clock.now() < 60.0 * minutes:
                await bucket.acquire()
                starts.append(clock.now())
                await clock.sleep(latency)  # the HTTP request, which oversleeps too

        await asyncio.gather(*(worker() for _ in range(workers)))
        return starts

    starts = asyncio.run(main())
    in_time = [t for t in starts if t < 60.0 * minutes]
    # Each wake-up is ~1 ms late on a 50 ms interval: losing it would give 50/51 = 0.98.
    assert len(in_time) / (rate * minutes) >= 0.99
    assert_within_rate(starts, rate, burst)
    assert most_in_any_half_open_window(starts) <= rate + burst - 1


def test_a_late_start_catches_up_only_as_far_as_the_window_bound_allows() -> None:
    # 7.5 per minute: one start every 8 s, and at most 8 (7.5 + burst 1) in any 60 s. Had the
    # start due at 8 but woken at 15.2 kept the schedule 16, 24, ..., 72, then 15.2..72 would
    # hold 9 starts in 56.8 s. So this lateness is too much to catch up: the schedule restarts.
    lateness = iter([7.2])
    clock = LateClock(lambda: next(lateness, 0.0))
    starts = run_acquirers(TokenBucket(7.5, clock=clock), clock, tasks=1, each=30)
    assert starts[:4] == pytest.approx([0.0, 15.2, 23.2, 31.2])
    assert_within_rate(starts, 7.5, 1)


def test_a_caught_up_start_keeps_a_half_open_minute_to_the_rate() -> None:
    # One start a second: the one due at 1 wakes at 1.4 and the schedule goes on at 2, 3, ...
    # The start due at 61 would make 61 starts in [1.4, 61.4), so it waits until 61.4.
    lateness = iter([0.4])
    clock = LateClock(lambda: next(lateness, 0.0))
    starts = run_acquirers(TokenBucket(60, clock=clock), clock, tasks=1, each=130)
    assert starts[:3] == pytest.approx([0.0, 1.4, 2.0])
    assert starts[60:63] == pytest.approx([60.0, 61.4, 62.0])
    assert most_in_any_half_open_window(starts) == 60


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=1200, allow_nan=False),
    burst=st.integers(min_value=1, max_value=20),
    tasks=st.integers(min_value=1, max_value=12),
    total=st.integers(min_value=1, max_value=250),
    lateness=st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=0, max_value=2.0, allow_nan=False)),
        min_size=1,
        max_size=12,
    ),
    latency=st.floats(min_value=0, max_value=5.0, allow_nan=False),
)
def test_property_late_wake_ups_never_put_more_than_rate_plus_burst_in_a_window(
    rate: float, burst: int, tasks: int, total: int, lateness: list[float], latency: float
) -> None:
    # Each sleep ends late by the next of ``lateness`` (in intervals, repeated): up to two
    # intervals, so both sides of the lateness the limiter still catches up on.
    interval = 60.0 / rate
    late = itertools.cycle([fraction * interval for fraction in lateness])
    clock = LateClock(lambda: next(late))
    bucket = TokenBucket(rate, burst=burst, clock=clock)

    async def main() -> list[float]:
        starts: list[float] = []

        async def worker() -> None:
            while len(starts) < total:
                await bucket.acquire()
                starts.append(clock.now())
                await clock.sleep(latency)

        await asyncio.gather(*(worker() for _ in range(tasks)))
        return starts

    starts = asyncio.run(main())
    assert starts == sorted(starts)
    assert_within_rate(starts, rate, burst)
    assert most_in_any_half_open_window(starts) <= math.ceil(rate) + burst - 1


def test_concurrent_acquirers_start_in_arrival_order() -> None:
    async def main() -> list[int]:
        clock = FakeClock()
        bucket = TokenBucket(120, clock=clock)
        order: list[int] = []

        async def acquirer(number: int) -> None:
            await bucket.acquire()
            order.append(number)

        tasks = [asyncio.create_task(acquirer(n)) for n in range(20)]
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(main()) == list(range(20))


def test_a_cancelled_waiter_does_not_use_up_a_token() -> None:
    async def main() -> list[float]:
        clock = FakeClock()
        bucket = TokenBucket(60, clock=clock)
        await bucket.acquire()
        waiter = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await bucket.acquire()
        return [clock.now()]

    assert asyncio.run(main()) == [1.0]


# -- pause -------------------------------------------------------------------------------------


def test_pause_holds_everyone_back_and_restarts_without_a_burst() -> None:
    async def main() -> list[float]:
        clock = FakeClock()
        bucket = TokenBucket(60, burst=3, clock=clock)
        for _ in range(3):
            await bucket.acquire()
        bucket.pause(10)  # the server said Retry-After: 10
        starts: list[float] = []

        async def acquirer() -> None:
            await bucket.acquire()
            starts.append(clock.now())

        await asyncio.gather(*(acquirer() for _ in range(5)))
        return starts

    # Ten idle seconds would refill a burst of 3; after a 429 it restarts at the rate instead.
    assert asyncio.run(main()) == pytest.approx([10, 11, 12, 13, 14])


def test_pause_reaches_a_waiter_that_is_already_sleeping() -> None:
    async def main() -> float:
        clock = FakeClock()
        bucket = TokenBucket(6, clock=clock)  # one start every 10 s
        await bucket.acquire()
        waiter = asyncio.create_task(bucket.acquire())
        await clock.sleep(2)  # the waiter is asleep until t=10
        bucket.pause(30)
        await waiter
        return clock.now()

    assert asyncio.run(main()) == pytest.approx(32)


def test_a_shorter_pause_does_not_shorten_a_longer_one() -> None:
    async def main() -> float:
        clock = FakeClock()
        bucket = TokenBucket(600, clock=clock)
        bucket.pause(20)
        bucket.pause(5)
        await bucket.acquire()
        return clock.now()

    assert asyncio.run(main()) == pytest.approx(20)


def test_pause_refuses_a_duration_that_is_not_finite() -> None:
    bucket = TokenBucket(100, clock=FakeClock())
    with pytest.raises(ValueError, match="finite"):
        bucket.pause(math.inf)
    with pytest.raises(ValueError, match="finite"):
        bucket.pause(math.nan)


# -- unlimited and construction ----------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, -5, math.inf])
def test_unlimited_rate_acquires_at_once(rate: float) -> None:
    clock = FakeClock()
    starts = run_acquirers(TokenBucket(rate, clock=clock), clock, tasks=4, each=500)
    assert starts == [0.0] * 2000


def test_unlimited_rate_still_honours_a_pause() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock)
    bucket.pause(3)
    starts = run_acquirers(bucket, clock, tasks=3, each=2)
    assert starts == [3.0] * 6


def test_bucket_reports_its_settings_and_refuses_nonsense() -> None:
    bucket = TokenBucket(100, burst=4)
    assert (bucket.rate_per_minute, bucket.burst) == (100.0, 4)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(100, burst=0)
    with pytest.raises(ValueError, match="number"):
        TokenBucket(math.nan)


def test_the_real_clock_paces_in_real_time() -> None:
    async def main() -> float:
        clock = MonotonicClock()
        bucket = TokenBucket(1200, clock=clock)  # every 50 ms
        began = clock.now()
        for _ in range(3):
            await bucket.acquire()
        return clock.now() - began

    assert asyncio.run(main()) >= 0.1 - 0.005  # two waits; asyncio may wake within its resolution


# -- concurrency sizing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "latency", "kwargs", "expected"),
    [
        (100, 0.5, {}, 2),  # 100/60 * 0.5 * 2 = 1.67
        (100, 3.0, {}, 10),
        (100, 0.6, {"safety": 1.0}, 1),  # exactly 1.0, despite float noise
        (6000, 1.0, {}, 64),  # capped
        (6000, 1.0, {"maximum": 500}, 200),
        (100, 0.01, {"minimum": 4}, 4),
        (100, 0.0, {}, 1),
        (0, 1.0, {}, 64),  # unlimited: as many as allowed
        (math.inf, 1.0, {"maximum": 8}, 8),
    ],
)
def test_concurrency_for_sizes_workers_by_rate_and_latency(
    rate: float, latency: float, kwargs: dict[str, Any], expected: int
) -> None:
    assert concurrency_for(rate, latency, **kwargs) == expected


def test_concurrency_for_refuses_impossible_bounds() -> None:
    with pytest.raises(ValueError, match="minimum"):
        concurrency_for(100, 1, minimum=0)
    with pytest.raises(ValueError, match="minimum"):
        concurrency_for(100, 1, minimum=10, maximum=5)


def sending_time(workers: int, *, rate: float, latency: float, messages: int) -> float:
    """Virtual seconds until the last of ``messages`` requests starts, each taking ``latency``."""
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock)
    starts: list[float] = []

    async def worker() -> None:
        while len(starts) < messages:
            await bucket.acquire()
            starts.append(clock.now())
            await clock.sleep(latency)  # the HTTP request

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(workers)))

    asyncio.run(main())
    return max(starts[:messages])


def test_concurrency_for_keeps_latency_from_lowering_the_rate() -> None:
    rate, latency = 100.0, 2.0
    workers = concurrency_for(rate, latency)
    assert sending_time(workers, rate=rate, latency=latency, messages=200) == pytest.approx(119.4)
    # With one worker the latency, not the limiter, sets the pace.
    assert sending_time(1, rate=rate, latency=latency, messages=200) == pytest.approx(398)


# -- the fake clock ----------------------------------------------------------------------------


def test_fake_clock_wakes_concurrent_sleepers_at_their_deadlines_in_order() -> None:
    async def main() -> list[tuple[str, float]]:
        clock = FakeClock(start=100.0)
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, *delays: float) -> None:
            for delay in delays:
                await clock.sleep(delay)
                woke.append((name, clock.now()))

        await asyncio.gather(sleeper("a", 10), sleeper("b", 1, 1, 1), sleeper("c", 2.5, 0))
        return woke

    assert asyncio.run(main()) == [
        ("b", 101.0),
        ("b", 102.0),
        ("c", 102.5),
        ("c", 102.5),
        ("b", 103.0),
        ("a", 110.0),
    ]


def test_fake_clock_takes_no_real_time_and_can_be_advanced_by_hand() -> None:
    real = MonotonicClock()
    began = real.now()
    clock = FakeClock()

    async def main() -> None:
        await clock.sleep(3600)
        clock.advance(60)
        await clock.sleep(-1)  # a negative sleep is no sleep

    asyncio.run(main())
    assert clock.now() == 3660
    assert real.now() - began < 5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_fake_clock_does_not_advance_for_a_cancelled_sleeper() -> None:
    async def main() -> float:
        clock = FakeClock()
        doomed = asyncio.create_task(clock.sleep(1000))
        await asyncio.sleep(0)
        doomed.cancel()
        await clock.sleep(1)
        return clock.now()

    assert asyncio.run(main()) == 1


def test_fake_clock_works_across_event_loops() -> None:
    clock = FakeClock()
    asyncio.run(clock.sleep(1))
    asyncio.run(clock.sleep(2))
    assert clock.now() == 3
