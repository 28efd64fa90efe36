"""A bad day at the API: 5xx, dropped connections, latency spikes, no credit, 429s."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from run_campaign import SENDER, number, plan, send, settings

from elksxl.errors import OutOfCreditsError
from elksxl.journal import Journal, JournalEntry, State
from elksxl.ratelimit import TokenBucket
from elksxl.sender import OUT_OF_CREDITS_REASON, SendOptions, SendSummary
from elksxl.simulator.testing import SimulatorHandle

StartSimulator = Callable[..., SimulatorHandle]
PRICE = 3500  # per part to +46, the simulator's default
FAST = SendOptions(sender=SENDER, reconcile_delay=0.3, backoff=0.05, max_backoff=0.5)


def assert_each_sent_once(
    sim: SimulatorHandle, journal: Journal, campaign: str, count: int
) -> None:
    entries = journal.entries(campaign)
    assert len(entries) == count
    assert {entry.state for entry in entries} == {State.SENT}
    accepted = sim.messages()
    assert Counter(m["to"] for m in accepted) == Counter(number(i) for i in range(count))
    assert {m["id"] for m in accepted} == {entry.elks_id for entry in entries}


@pytest.mark.slow
def test_faulty_api_loses_nothing_and_sends_nothing_twice(
    simulator_factory: StartSimulator, tmp_path: Path
) -> None:
    latency = {"min_ms": 5, "max_ms": 40, "spike_rate": 0.02, "spike_ms": 1500}
    faults = {"seed": 11, "latency": latency, "error_5xx": 0.05}
    sim = simulator_factory(
        {"rate_per_minute": 0, "faults": faults | {"drop_after": 0.03, "drop_before": 0.03}}
    )
    count = 500
    with Journal.open(tmp_path / "journal.db") as journal:
        plan(journal, "faulty", count)
        # A 1 s read timeout turns every latency spike into a lost answer as well, and the
        # simulator still records such a message up to ~0.55 s after the client gave up: the
        # history is trusted only after longer than that.
        options = replace(FAST, reconcile_delay=1.0)
        summary = asyncio.run(send(journal, "faulty", settings(sim.base_url, timeout=1.0), options))

        assert_each_sent_once(sim, journal, "faulty", count)
        stats = sim.stats()
        for fault in ("errors_5xx", "drops_before", "drops_after"):
            assert stats[fault] > 0, fault
        # Every 5xx, every early drop and every timed-out spike was provably absent: resent.
        assert summary.resent >= stats["errors_5xx"] + stats["drops_before"]
        assert summary.counts[State.SENT] == count


def test_out_of_credits_stops_and_a_resume_after_top_up_sends_exactly_the_rest(
    simulator_factory: StartSimulator, tmp_path: Path
) -> None:
    sim = simulator_factory({"rate_per_minute": 0})
    sim.set_balance("sim", 39 * PRICE + PRICE // 2)  # pays for 39 messages, not the 40th
    workers = 4
    options = SendOptions(sender=SENDER, concurrency=workers, reconcile_delay=0.1)
    settled: list[JournalEntry] = []
    with Journal.open(tmp_path / "journal.db") as journal:
        planned = plan(journal, "credits", 100)

        summary = asyncio.run(
            send(journal, "credits", settings(sim.base_url), options, on_settled=settled.append)
        )

        assert isinstance(summary.stopped, OutOfCreditsError)
        accepted = sim.messages()
        assert len(accepted) == 39
        sent = journal.entries("credits", {State.SENT})
        assert {e.elks_id for e in sent} == {m["id"] for m in accepted}
        # Workers take rows in order, so only the few in flight at the stop can be late rows.
        assert max(e.row for e in sent) <= planned[39 + workers - 1].row
        not_sent = journal.entries("credits", {State.NOT_SENT})
        assert len(not_sent) == 61
        assert {e.error for e in not_sent} == {OUT_OF_CREDITS_REASON}
        assert summary.counts[State.IN_FLIGHT] == summary.counts[State.PLANNED] == 0
        assert len(settled) == 100
        assert summary.cost == 39 * PRICE

        sim.set_balance("sim", 1_000 * PRICE)
        resumed = asyncio.run(send(journal, "credits", settings(sim.base_url), options))

        assert resumed.stopped is None
        later = sim.messages()[39:]
        assert sorted(m["to"] for m in later) == sorted(e.to for e in not_sent)
        assert_each_sent_once(sim, journal, "credits", 100)


@pytest.mark.slow
def test_rate_limited_campaign_sends_all_once_and_the_limiter_slows_down(
    simulator_factory: StartSimulator, tmp_path: Path
) -> None:
    sim_rate, our_rate, count = 300, 1200, 40  # the account allows 5/s; we would start 20/s
    sim = simulator_factory({"rate_per_minute": sim_rate, "burst": 5, "over_rate": "429"})
    limiter = TokenBucket(our_rate)
    loop_started: list[float] = []

    async def run(journal: Journal) -> SendSummary:
        loop_started.append(asyncio.get_running_loop().time())
        summary = await send(journal, "limited", settings(sim.base_url), FAST, limiter=limiter)
        loop_started.append(asyncio.get_running_loop().time())
        return summary

    with Journal.open(tmp_path / "journal.db") as journal:
        plan(journal, "limited", count)
        summary = asyncio.run(run(journal))

        assert_each_sent_once(sim, journal, "limited", count)
    stats = sim.stats()
    assert summary.rate_limited == stats["rate_limited"] > 0
    elapsed = loop_started[1] - loop_started[0]
    requests = stats["requests"]
    # Without the pauses, 20 starts a second would meet ~3 refusals per accepted message.
    assert requests / elapsed < our_rate / 60 / 2
    assert stats["rate_limited"] < count
