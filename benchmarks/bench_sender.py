"""The sender against the simulator in its own process (issue 4).

(a) Paced: 1200 messages per minute with 250 ms simulated latency for at least 2 minutes.
    Achieved / configured rate, and the most requests started in any 60-second window, next
    to a plain sequential loop of httpx posts, which cannot beat 1 / latency.
(b) Unpaced: messages per second through the whole sender (journal, limiter, client) with no
    rate limit and no latency, as a ratio to a bare httpx loop posting the same messages to
    the same simulator with the same concurrency.

``ELKSXL_BENCH_QUICK=1`` shortens both for a smoke run; the default is the full measurement.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from elksxl.client import ElksClient
from elksxl.config import Secret, Settings
from elksxl.journal import Journal, PlannedMessage, State
from elksxl.ratelimit import TokenBucket, concurrency_for
from elksxl.sender import Sender, SendOptions
from elksxl.simulator.testing import running_simulator_process

QUICK = os.environ.get("ELKSXL_BENCH_QUICK") == "1"
RATE = 1200.0  # per minute
LATENCY = 0.250  # seconds, simulated by the API
PACED_SECONDS = 20.0 if QUICK else 125.0  # >= 2 minutes of sending at RATE
PLAIN_SECONDS = 5.0 if QUICK else 20.0
UNPACED_MESSAGES = 500 if QUICK else 2000
WINDOW = 60.0
SENDER = "Bench"
AUTH = ("sim", "sim")


class RecordingBucket(TokenBucket):
    """A token bucket that notes when it let each request start (its own clock)."""

    def __init__(self, rate_per_minute: float) -> None:
        super().__init__(rate_per_minute)
        self.starts: list[float] = []

    async def acquire(self) -> None:
        await super().acquire()
        self.starts.append(time.monotonic())


@dataclass(frozen=True)
class SenderRun:
    messages: int
    seconds: float
    starts: list[float]
    attempted: list[float]  # the journal's attempted_at, as POSIX seconds
    concurrency: int


def messages(count: int, first: int = 0) -> list[PlannedMessage]:
    return [
        PlannedMessage(row=i + 2, to=f"+4670{1_000_000 + first + i}", text=f"Hej {i}, välkommen!")
        for i in range(count)
    ]


def max_in_window(times: Sequence[float], window: float = WINDOW) -> int:
    """The most timestamps in any half-open window [t, t + window)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


async def run_sender(
    url: str,
    planned: list[PlannedMessage],
    rate: float,
    latency: float,
    concurrency: int | None = None,
) -> SenderRun:
    settings = Settings(username=AUTH[0], password=Secret(AUTH[1]), api_urls=(url,))
    options = SendOptions(sender=SENDER, expected_latency=latency, concurrency=concurrency)
    limiter = RecordingBucket(rate)
    with (
        tempfile.TemporaryDirectory(prefix="elksxl-bench-") as folder,
        Journal.open(Path(folder) / "journal.db") as journal,
    ):
        journal.ensure_campaign("bench", source="bench", sheet="bench", sender=SENDER, options={})
        journal.add_planned("bench", planned)
        async with ElksClient(settings) as client:
            started = time.perf_counter()
            summary = await Sender(journal, client, limiter, options).run("bench")
            seconds = time.perf_counter() - started
        if summary.counts[State.SENT] != len(planned):
            raise RuntimeError(f"not everything was sent: {dict(summary.counts)}")
        attempted = [e.attempted_at.timestamp() for e in journal.entries("bench") if e.attempted_at]
    workers = concurrency or concurrency_for(rate, latency)
    return SenderRun(len(planned), seconds, limiter.starts, attempted, workers)


def form(message: PlannedMessage) -> dict[str, str]:
    return {"from": SENDER, "to": message.to, "message": message.text}


async def plain_loop(url: str, seconds: float) -> tuple[int, float]:
    """One POST after the other, as a simple script would: messages sent in ``seconds``."""
    sent, started = 0, time.perf_counter()
    async with httpx.AsyncClient(auth=AUTH, trust_env=False) as client:
        for message in messages(100_000, first=5_000_000):
            if time.perf_counter() - started >= seconds:
                break
            (await client.post(url + "/sms", data=form(message))).raise_for_status()
            sent += 1
    return sent, time.perf_counter() - started


async def bare_concurrent(url: str, planned: list[PlannedMessage], workers: int) -> float:
    """The same messages through one AsyncClient and ``workers`` tasks, nothing else: seconds."""
    queue = list(reversed(planned))
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(auth=AUTH, trust_env=False, limits=limits) as client:

        async def work() -> None:
            while queue:
                message = queue.pop()
                (await client.post(url + "/sms", data=form(message))).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(workers)))
        return time.perf_counter() - started


def paced() -> None:
    count = int(PACED_SECONDS * RATE / 60)
    scenario = {"rate_per_minute": 0, "faults": {"latency": {"min_ms": 250, "max_ms": 250}}}
    with running_simulator_process(scenario) as sim:
        run = asyncio.run(run_sender(sim.base_url, messages(count), RATE, LATENCY))
        plain_sent, plain_seconds = asyncio.run(plain_loop(sim.base_url, PLAIN_SECONDS))
    achieved = run.messages / run.seconds * 60
    peak = max_in_window(run.starts)
    peak_journal = max_in_window(run.attempted)
    plain_rate = plain_sent / plain_seconds * 60
    print(f"(a) paced: {run.messages} messages at {RATE:g}/min, API latency {LATENCY * 1000:g} ms")
    print(f"    sender: {run.seconds:.1f} s with {run.concurrency} workers")
    print(f"    achieved {achieved:.1f}/min = {achieved / RATE:.4f} of configured (target >= 0.98)")
    print(
        f"    most starts in any 60 s window: {peak} = {peak / RATE:.4f} of the rate "
        f"(limiter grants; journal attempted_at: {peak_journal} = {peak_journal / RATE:.4f}); "
        "target <= 1.0"
    )
    print(
        f"    plain sequential httpx loop: {plain_sent} in {plain_seconds:.1f} s = "
        f"{plain_rate:.1f}/min = {plain_rate / RATE:.4f} of the rate "
        f"(ceiling 1/latency = {60 / LATENCY:.0f}/min)"
    )


def unpaced() -> None:
    count = UNPACED_MESSAGES
    default_workers = concurrency_for(0, 0)  # what the sender uses when the rate is unlimited
    print(f"(b) unpaced: {count} messages, no rate limit, no latency")
    print("    baseline: bare httpx, one AsyncClient, the same number of tasks posting the same")
    print("    form to the same simulator process; best of two runs each, alternated")
    with running_simulator_process({"rate_per_minute": 0}) as sim:
        asyncio.run(bare_concurrent(sim.base_url, messages(200, first=7_000_000), 8))  # warm-up
        for workers, label in ((default_workers, "sender default"), (8, "explicit")):
            bare_times, sender_times = [], []
            for attempt in range(2):
                first = 1_000_000 * (attempt + 1) + 100_000 * workers
                batch = messages(count, first)
                bare_times.append(asyncio.run(bare_concurrent(sim.base_url, batch, workers)))
                batch = messages(count, first + 50_000)
                run = asyncio.run(run_sender(sim.base_url, batch, 0, 0, concurrency=workers))
                sender_times.append(run.seconds)
            bare, ours = count / min(bare_times), count / min(sender_times)
            print(
                f"    {workers:3d} concurrent ({label}): sender {ours:.0f} msg/s, "
                f"bare httpx {bare:.0f} msg/s, ratio {ours / bare:.2f} (target >= 0.8)"
            )


def main() -> None:
    if QUICK:
        print("(quick run: ELKSXL_BENCH_QUICK=1; the full one paces 2400+ messages over 2 min)")
    paced()
    unpaced()


if __name__ == "__main__":
    main()
