"""Sender scenarios against the simulator over real HTTP, with a real SQLite journal."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from elksxl.client import ElksClient
from elksxl.config import Secret, Settings
from elksxl.errors import AuthenticationError, ConfigError
from elksxl.journal import (
    IllegalTransitionError,
    Journal,
    JournalEntry,
    PlannedMessage,
    State,
    message_key,
)
from elksxl.ratelimit import TokenBucket
from elksxl.sender import (
    AUTHENTICATION_REASON,
    Progress,
    Sender,
    SendOptions,
    SendSummary,
)
from elksxl.sender.writer import JournalWriter
from elksxl.simulator.testing import SimulatorHandle

StartSimulator = Callable[..., SimulatorHandle]
CAMPAIGN = "spring"
FAST = SendOptions(sender="Elksxl", reconcile_delay=0.05, backoff=0.01, max_backoff=0.05)
UNLIMITED: Mapping[str, Any] = {"rate_per_minute": 0}
AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def number(i: int) -> str:
    return f"+4670{1_000_000 + i}"


def plan(journal: Journal, count: int, campaign: str = CAMPAIGN) -> list[PlannedMessage]:
    messages = [PlannedMessage(row=i + 2, to=number(i), text=f"Hej {i}!") for i in range(count)]
    journal.ensure_campaign(
        campaign, source="book.xlsx", sheet="Kontakter", sender="Elksxl", options={}
    )
    journal.add_planned(campaign, messages)
    return messages


def send(
    journal: Journal,
    settings: Settings,
    *,
    options: SendOptions = FAST,
    rate: float = 0,
    campaign: str = CAMPAIGN,
    on_progress: Callable[[Progress], None] | None = None,
    on_settled: Callable[[JournalEntry], None] | None = None,
    cancel_after: int | None = None,
) -> SendSummary:
    async def go() -> SendSummary:
        cancel = asyncio.Event()
        settled: list[JournalEntry] = []

        def settle(entry: JournalEntry) -> None:
            settled.append(entry)
            if cancel_after is not None and len(settled) >= cancel_after:
                cancel.set()
            if on_settled is not None:
                on_settled(entry)

        async with ElksClient(settings) as client:
            sender = Sender(
                journal,
                client,
                TokenBucket(rate),
                options,
                on_progress=on_progress,
                on_settled=settle,
            )
            return await sender.run(campaign, cancel=cancel)

    return asyncio.run(go())


def recipients(handle: SimulatorHandle) -> Counter[str]:
    return Counter(message["to"] for message in handle.messages())


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.db") as opened:
        yield opened


def test_every_planned_message_is_sent_once_with_its_id_parts_and_cost(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 30)

    summary = send(journal, sim.settings())

    entries = journal.entries(CAMPAIGN)
    assert {entry.state for entry in entries} == {State.SENT}
    accepted = {message["id"]: message for message in sim.messages()}
    assert set(accepted) == {entry.elks_id for entry in entries}
    assert len(accepted) == len(entries)
    for entry in entries:
        assert entry.elks_id is not None
        assert accepted[entry.elks_id]["to"] == entry.to
        assert accepted[entry.elks_id]["message"] == entry.text
        assert (entry.parts, entry.cost) == (1, 3500)
    assert summary.cost == 30 * 3500 == journal.total_cost(CAMPAIGN)
    assert summary.counts[State.SENT] == 30
    assert (summary.cancelled, summary.stopped, summary.resent) == (False, None, 0)


def test_refused_number_is_marked_rejected_and_the_rest_is_sent(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 5)
    journal.add_planned(CAMPAIGN, [PlannedMessage(row=99, to="+123", text="Hej!")])

    summary = send(journal, sim.settings())

    assert summary.counts[State.REJECTED] == 1
    assert summary.counts[State.SENT] == 5
    (rejected,) = journal.entries(CAMPAIGN, {State.REJECTED})
    assert rejected.to == "+123"
    assert rejected.error is not None
    assert "Invalid to number" in rejected.error
    assert "+123" not in recipients(sim)


def test_progress_is_monotone_and_ends_at_the_final_counts(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 20)
    journal.add_planned(CAMPAIGN, [PlannedMessage(row=99, to="+123", text="Hej!")])
    events: list[Progress] = []
    settled: list[JournalEntry] = []

    send(journal, sim.settings(), on_progress=events.append, on_settled=settled.append)

    assert events, "no progress was reported"
    for before, after in itertools.pairwise(events):
        assert after.sent >= before.sent
        assert after.rejected >= before.rejected
        assert after.cost >= before.cost
        assert after.remaining <= before.remaining
        assert after.elapsed >= before.elapsed
    last = events[-1]
    assert (last.total, last.sent, last.rejected, last.remaining) == (21, 20, 1, 0)
    assert (last.failed, last.unknown, last.not_sent) == (1, 0, 0)
    assert last.cost == 20 * 3500
    assert last.rate_per_minute > 0
    assert sorted(entry.row for entry in settled) == sorted(
        e.row for e in journal.entries(CAMPAIGN)
    )


def test_the_rate_shown_never_reads_above_the_limit_in_the_first_minute(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 25)
    events: list[Progress] = []

    send(journal, sim.settings(), rate=600, on_progress=events.append)

    # The limiter starts with a burst; extrapolated over a second that read 1000+/min.
    assert max(e.rate_per_minute for e in events) <= 600
    assert events[-1].sent == 25


def test_cancel_leaves_the_rest_planned_and_a_second_run_sends_exactly_those(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 40)

    first = send(journal, sim.settings(), rate=600, cancel_after=5)

    assert first.cancelled
    counts = journal.counts(CAMPAIGN)
    assert counts[State.IN_FLIGHT] == counts[State.UNKNOWN] == 0
    assert 5 <= counts[State.SENT] < 40
    assert counts[State.SENT] + counts[State.PLANNED] == 40
    assert sum(recipients(sim).values()) == counts[State.SENT]

    second = send(journal, sim.settings())

    assert not second.cancelled
    assert journal.counts(CAMPAIGN)[State.SENT] == 40
    assert recipients(sim) == Counter(number(i) for i in range(40))


def test_authentication_failure_stops_with_nothing_sent_and_resume_sends_all(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 10)

    summary = send(journal, sim.settings(password=Secret("wrong")))

    assert isinstance(summary.stopped, AuthenticationError)
    assert "ELKS_USERNAME" in str(summary.stopped)
    assert sim.messages() == []
    entries = journal.entries(CAMPAIGN)
    assert {entry.state for entry in entries} == {State.NOT_SENT}
    assert {entry.error for entry in entries} == {AUTHENTICATION_REASON}

    resumed = send(journal, sim.settings())

    assert resumed.stopped is None
    assert resumed.counts[State.SENT] == 10
    assert recipients(sim) == Counter(number(i) for i in range(10))


def test_lost_answer_with_dontlog_stays_unknown_for_the_user_to_decide(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory({**UNLIMITED, "faults": {"drop_after": 1.0}})
    plan(journal, 3)

    summary = send(journal, sim.settings(), options=replace(FAST, dontlog=True))

    assert summary.counts[State.UNKNOWN] == 3
    assert recipients(sim) == Counter(number(i) for i in range(3))  # processed once, never twice
    for entry in journal.entries(CAMPAIGN):
        assert entry.error is not None
        assert "dontlog" in entry.error
        assert entry.attempts == 1


def test_lost_answer_is_found_in_the_history_and_not_sent_again(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory({**UNLIMITED, "faults": {"drop_after": 1.0}})
    plan(journal, 4)

    summary = send(journal, sim.settings())

    assert summary.counts[State.SENT] == 4
    assert summary.resent == 0
    accepted = {message["id"] for message in sim.messages()}
    assert accepted == {entry.elks_id for entry in journal.entries(CAMPAIGN)}
    assert len(accepted) == 4


def test_server_errors_are_reconciled_and_resent_exactly_once(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory({**UNLIMITED, "faults": {"seed": 7, "error_5xx": 0.3}})
    plan(journal, 40)

    summary = send(journal, sim.settings())

    assert summary.counts[State.SENT] == 40
    assert summary.resent == sim.stats()["errors_5xx"] > 0
    assert recipients(sim) == Counter(number(i) for i in range(40))


def test_answers_that_never_come_give_up_as_not_sent_after_max_attempts(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory({**UNLIMITED, "faults": {"drop_before": 1.0}})
    plan(journal, 2)

    summary = send(journal, sim.settings(), options=replace(FAST, max_attempts=3))

    assert summary.counts[State.NOT_SENT] == 2
    assert sim.messages() == []
    assert sim.stats()["drops_before"] == 6
    assert all(entry.attempts == 3 for entry in journal.entries(CAMPAIGN))


def test_unreachable_api_is_retried_then_not_sent_and_a_resume_sends_them(
    simulator_factory: StartSimulator, journal: Journal, unused_port: int
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 3)
    dead = sim.settings(api_urls=(f"http://127.0.0.1:{unused_port}/a1",))

    first = send(journal, dead, options=replace(FAST, max_attempts=2))

    assert first.counts[State.NOT_SENT] == 3
    (entry, *_) = journal.entries(CAMPAIGN)
    assert entry.error is not None
    assert "could not reach 46elks" in entry.error
    second = send(journal, sim.settings())
    assert second.counts[State.SENT] == 3
    assert recipients(sim) == Counter(number(i) for i in range(3))


def test_leftover_in_flight_message_found_in_the_history_is_marked_sent_not_resent(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    (message,) = plan(journal, 1)
    key = message_key(CAMPAIGN, message.row, message.to, message.text)
    journal.mark_in_flight(key)  # as a process that died waiting for the answer leaves it

    async def deliver_behind_the_journals_back() -> str:
        async with ElksClient(sim.settings()) as client:
            sms = await client.send(to=message.to, message=message.text, sender="Elksxl")
        assert sms.id is not None
        return sms.id

    sms_id = asyncio.run(deliver_behind_the_journals_back())

    summary = send(journal, sim.settings())

    assert summary.counts[State.SENT] == 1
    assert summary.resent == 0
    entry = journal.entry(key)
    assert entry is not None
    assert entry.elks_id == sms_id
    assert entry.cost == 3500
    assert len(sim.messages()) == 1


def test_leftover_in_flight_message_absent_from_the_history_is_sent_once(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    (message,) = plan(journal, 1)
    key = message_key(CAMPAIGN, message.row, message.to, message.text)
    journal.mark_in_flight(key)

    summary = send(journal, sim.settings())

    assert summary.counts[State.SENT] == 1
    assert summary.resent == 1
    assert recipients(sim) == Counter({message.to: 1})


def test_same_text_sent_by_another_campaign_is_not_taken_for_this_one(
    simulator_factory: StartSimulator, journal: Journal
) -> None:
    sim = simulator_factory(UNLIMITED)
    plan(journal, 1, campaign="yesterday")
    send(journal, sim.settings(), campaign="yesterday")
    (message,) = plan(journal, 1, campaign="today")  # same recipient, same text
    journal.mark_in_flight(message_key("today", message.row, message.to, message.text))

    summary = send(journal, sim.settings(), campaign="today")

    assert summary.counts[State.SENT] == 1
    assert recipients(sim) == Counter({message.to: 2})
    (yesterday,) = journal.entries("yesterday")
    (today,) = journal.entries("today")
    assert yesterday.elks_id != today.elks_id


def test_options_refuse_a_sender_46elks_would_refuse() -> None:
    with pytest.raises(ConfigError, match="invalid sender"):
        SendOptions(sender="1 bad sender")


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the journal writer: group commit ---------------------------------------------------------


def test_concurrent_journal_writes_share_commits_and_each_is_committed_when_awaited(
    journal: Journal,
) -> None:
    workers, per_worker = 16, 4
    keys = [message_key(CAMPAIGN, m.row, m.to, m.text) for m in plan(journal, workers * per_worker)]
    writer = JournalWriter(journal.path)
    seen_committed: list[State] = []

    async def work(mine: list[str]) -> None:
        for key in mine:
            attempt = await writer(lambda j, key=key: j.mark_in_flight(key))
            assert attempt == 1
            # The reading connection sees only committed writes: the mark is on disk now,
            # before the request would leave.
            entry = journal.entry(key)
            assert entry is not None
            seen_committed.append(entry.state)
            await asyncio.sleep(0)  # the request
            await writer(
                lambda j, key=key: j.mark_sent(key, elks_id=key[:32], parts=1, cost=3500, at=AT)
            )

    async def go() -> None:
        try:
            await asyncio.gather(*(work(keys[i::workers]) for i in range(workers)))
        finally:
            await writer.aclose()

    asyncio.run(go())

    assert seen_committed == [State.IN_FLIGHT] * len(keys)
    assert journal.counts(CAMPAIGN)[State.SENT] == len(keys)
    assert writer.operations == 2 * len(keys)
    assert writer.batches <= writer.operations // 4  # one fsync for several messages


def test_a_refused_write_fails_only_its_own_caller_in_a_shared_commit(journal: Journal) -> None:
    keys = [message_key(CAMPAIGN, m.row, m.to, m.text) for m in plan(journal, 16)]
    journal.mark_in_flight(keys[5])
    journal.mark_rejected(keys[5], "no")
    writer = JournalWriter(journal.path)

    async def go() -> list[int | BaseException]:
        try:
            return await asyncio.gather(
                *(writer(lambda j, key=key: j.mark_in_flight(key)) for key in keys),
                return_exceptions=True,
            )
        finally:
            await writer.aclose()

    results = asyncio.run(go())

    assert isinstance(results[5], IllegalTransitionError)
    assert results[:5] + results[6:] == [1] * 15
    states = [entry.state for entry in journal.entries(CAMPAIGN)]
    assert states == [State.IN_FLIGHT] * 5 + [State.REJECTED] + [State.IN_FLIGHT] * 10
    assert writer.batches < writer.operations == 16
