"""The async sending core: a campaign's planned messages, rate-limited and concurrent, journalled
before and after every request, retried or reconciled against the 46elks history (DESIGN 5.3).

How each outcome of one request is handled:

- accepted -> ``sent`` with id, parts and cost;
- refused (4xx) -> ``rejected`` with the reason; the campaign goes on;
- 429 -> the limiter pauses for ``Retry-After`` (the whole campaign slows down), then again;
- never reached (refused, DNS) -> retried with backoff; after ``max_attempts`` it is ``not_sent``;
- 5xx or lost answer -> ``unknown``, then looked up in the history: found -> ``sent``; provably
  absent -> sent again (a new attempt); undecidable (``dontlog``) -> stays ``unknown``;
- out of credits / authentication -> the campaign stops: requests in flight finish and are
  recorded, every message not sent becomes ``not_sent`` with the reason; a resume sends those.

A message is never sent a second time unless the history shows the earlier attempt is not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Final, TypeVar

from .client import ElksClient, Sms
from .config import validate_sender
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    ElksxlError,
    NotReachedError,
    RateLimitedError,
    RejectedError,
    StopCampaignError,
    UnknownOutcomeError,
)
from .journal import Journal, JournalEntry, State
from .ratelimit import Clock, MonotonicClock, TokenBucket, concurrency_for

__all__ = [
    "AUTHENTICATION_REASON",
    "OUT_OF_CREDITS_REASON",
    "Progress",
    "SendOptions",
    "SendSummary",
    "Sender",
]

OUT_OF_CREDITS_REASON: Final = "out of credits: top up the 46elks account and run again"
AUTHENTICATION_REASON: Final = (
    "authentication failed: check ELKS_USERNAME and ELKS_PASSWORD, then run again"
)
_RATE_WINDOW: Final = 60.0  # seconds over which Progress.rate_per_minute is measured
_LEFTOVER_REASON: Final = "the previous run ended before 46elks answered"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to send: the API parameters, and the retry and reconciliation rules."""

    sender: str  # the `from`, checked by config.validate_sender
    whendelivered: str | None = None
    flash: bool = False
    dontlog: bool = False
    concurrency: int | None = None  # None: sized from the rate and expected_latency
    max_attempts: int = 5  # per message, for failures that may be retried
    reconcile_window: timedelta = timedelta(minutes=10)
    expected_latency: float = 1.0  # seconds per request, for the default concurrency
    # Seconds 46elks may still take to record a message after its answer was lost (or its
    # process died): the history is trusted to show absence only after this long.
    reconcile_delay: float = 5.0
    backoff: float = 0.5  # first retry wait in seconds; doubles per attempt, with jitter
    max_backoff: float = 30.0
    max_rate_limited: int = 50  # 429 answers one message may get before it is given up
    progress_interval: float = 1.0  # seconds between periodic Progress events

    def __post_init__(self) -> None:
        validate_sender(self.sender)
        if self.max_attempts < 1 or self.max_rate_limited < 1:
            raise ConfigError("max_attempts and max_rate_limited must be at least 1")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {self.concurrency}")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a campaign stands; emitted after every settled message and periodically."""

    total: int
    sent: int  # accepted by 46elks, this run or before (delivered and failed included)
    rejected: int
    unknown: int
    not_sent: int
    remaining: int  # still to send in this run
    cost: int  # 1/10000 of the account currency, whole campaign so far
    rate_per_minute: float  # messages accepted per minute over the last minute
    elapsed: float  # seconds since this run started
    rate_limited: int = 0  # 429 answers in this run

    @property
    def failed(self) -> int:
        """Messages that did not go out: refused by 46elks or given up."""
        return self.rejected + self.not_sent


@dataclass(frozen=True, slots=True)
class SendSummary:
    """How a run ended. ``counts`` covers the whole campaign."""

    counts: Mapping[State, int]
    cost: int
    cancelled: bool
    stopped: StopCampaignError | None  # out of credits or authentication failure
    rate_limited: int = 0  # 429 answers in this run
    resent: int = 0  # messages sent again because the history proved an attempt absent


class _Verdict(Enum):
    FOUND = "found"  # the history holds the message: it is marked sent
    ABSENT = "absent"  # provably not there: safe to send (again)
    UNDECIDED = "undecided"  # cannot tell (dontlog, lookup failed): stays unknown


class _Next(Enum):
    DONE = "done"
    AGAIN = "again"


@dataclass(slots=True)
class _Tries:
    """One message's attempts in this run."""

    attempts: int = 0  # requests that may have counted (not reached, unknown outcome)
    limited: int = 0  # 429 answers


class Sender:
    """Sends the planned messages of a campaign. One ``run`` at a time per instance.

    Reads go through ``journal``; writes go through a second connection to the same file on
    a dedicated thread (see :class:`_Writer`), each awaited before the step that depends on it.
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


class _Writer:
    """The journal's writes, on one dedicated thread with its own connection to the file,
    grouped into batches that commit together.

    A commit (``synchronous = FULL``) waits for fsync: 0.2 to 5 ms, two writes per message.
    On the event loop that wait would stall every request in flight; sqlite3 releases the GIL
    while it waits, so on this thread the loop keeps sending meanwhile. Callers enqueue their
    operation and await its future; the thread takes everything queued at once, runs it in
    submission order in one :meth:`Journal.batch` (each operation in its own savepoint),
    commits once, and only then resolves the futures: an awaited ``mark_in_flight`` is on disk
    before its request leaves, while N workers cost a few fsyncs instead of 2N. Writes that
    arrive during a commit queue up for the next batch. Reads stay on the caller's
    connection: WAL shows them every write awaited here.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: stop
        self._thread: threading.Thread | None = None  # started by the first write
        self._closed = False
        self.batches = 0  # commits so far
        self.operations = 0  # operations in those commits

    async def __call__(self, write: Callable[[Journal], _T]) -> _T:
        if self._closed:  # the thread is gone: nobody would ever answer
            raise RuntimeError("the journal writer is closed")
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="elksxl-journal")
            self._thread.start()
        self._queue.put(_Job(write, future))
        return await future

    async def aclose(self) -> None:
        """Finish every queued write, then close the connection and end the thread."""
        self._closed = True
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)  # before any await, so the thread ends even if we are cancelled
        await asyncio.to_thread(thread.join)

    def _serve(self) -> None:
        """The writer thread: batch after batch until told to stop."""
        journal: Journal | None = None
        try:
            while True:
                jobs, stop = self._take()
                if jobs:
                    if journal is None:  # opened here: sqlite3 connections stay on their thread
                        journal = _open_or_fail(self._path, jobs)
                    if journal is not None:
                        self._run_batch(journal, jobs)
                if stop:
                    return
        finally:
            if journal is not None:
                journal.close()

    def _take(self) -> tuple[list[_Job], bool]:
        """Wait for a write, then take everything queued behind it; and whether to stop."""
        jobs: list[_Job] = []
        item = self._queue.get()
        while item is not None:
            jobs.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return jobs, False
        return jobs, True

    def _run_batch(self, journal: Journal, jobs: list[_Job]) -> None:
        outcomes: list[tuple[_Job, object, BaseException | None]] = []
        try:
            with journal.batch():
                for job in jobs:
                    try:
                        outcomes.append((job, job.write(journal), None))
                    except Exception as exc:  # goes to its own caller; the batch goes on
                        outcomes.append((job, None, exc))
        except Exception as exc:  # the batch did not commit: nothing in it happened
            outcomes = [(job, None, exc) for job in jobs]
        else:
            self.batches += 1
            self.operations += len(jobs)
        _resolve(outcomes)


@dataclass(frozen=True, slots=True)
class _Job:
    """One queued journal write and the future its caller awaits."""

    write: Callable[[Journal], object]
    future: asyncio.Future[Any]


def _open_or_fail(path: Path, jobs: list[_Job]) -> Journal | None:
    """The writer thread's journal; None (each job failed with the reason) when it won't open."""
    try:
        return Journal.open(path)
    except Exception as exc:
        _resolve([(job, None, exc) for job in jobs])
        return None


def _resolve(outcomes: list[tuple[_Job, object, BaseException | None]]) -> None:
    """Hand each outcome to its caller's loop, one wake-up per loop (futures are not
    thread-safe: only their loop may resolve them)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, object, BaseException | None]]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].future.get_loop(), []).append(outcome)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody awaits any more
            loop.call_soon_threadsafe(_settle, mine)


def _settle(outcomes: list[tuple[_Job, object, BaseException | None]]) -> None:
    for job, result, error in outcomes:
        if job.future.done():  # its caller was cancelled; the write happened all the same
            continue
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)


@dataclass(slots=True)
class _Tally:
    """The campaign's counts kept in memory, so progress never re-reads the journal."""

    states: dict[str, State] = field(default_factory=dict)
    counts: dict[State, int] = field(default_factory=lambda: dict.fromkeys(State, 0))
    cost: int = 0
    rate_limited: int = 0
    resent: int = 0

    def know(self, entries: Collection[JournalEntry]) -> None:
        for entry in entries:
            self.states[entry.key] = entry.state

    def move(self, key: str, state: State) -> None:
        self.counts[self.states[key]] -= 1
        self.counts[state] += 1
        self.states[key] = state


class _Run:
    """The state of one ``Sender.run``: counts, claims, the halt signal, the stop reason."""

    def __init__(self, sender: Sender, campaign: str, cancel: asyncio.Event | None) -> None:
        self.journal = sender._journal
        self.write = _Writer(sender._journal.path)
        self.client = sender._client
        self.limiter = sender._limiter
        self.o = sender._options
        self.clock = sender._clock
        self.on_progress = sender._on_progress
        self.on_settled = sender._on_settled
        self.campaign = campaign
        self.cancel = cancel
        self.halt = asyncio.Event()  # set by cancel or a stop: take no new messages
        self.stopped: StopCampaignError | None = None
        self.tally = _Tally()
        self.claimed: set[str] = set()  # SMS ids taken by reconciliation in this run
        self.accepted_at: deque[float] = deque()  # clock times of recent accepts, for the rate
        self.started = self.clock.now()
        self.random = random.Random()

    async def execute(self) -> SendSummary:
        self.tally.counts.update(self.journal.counts(self.campaign))
        self.tally.cost = self.journal.total_cost(self.campaign)
        helpers = [asyncio.create_task(self._watch_cancel())]
        if self.on_progress is not None:
            helpers.append(asyncio.create_task(self._tick()))
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
        self._emit()
        return SendSummary(
            counts=dict(self.tally.counts),
            cost=self.tally.cost,
            cancelled=self.cancel is not None and self.cancel.is_set(),
            stopped=self.stopped,
            rate_limited=self.tally.rate_limited,
            resent=self.tally.resent,
        )

    # -- the three phases -------------------------------------------------------------------

    async def _reconcile_leftovers(self) -> None:
        """``in_flight`` and ``unknown`` entries of earlier runs: look each up before any send."""
        leftovers = self.journal.entries(self.campaign, {State.IN_FLIGHT, State.UNKNOWN})
        if not leftovers:
            return
        self.tally.know(leftovers)
        for entry in leftovers:
            if entry.state is State.IN_FLIGHT:
                await self._mark(entry.key, State.UNKNOWN, _LEFTOVER_REASON)
        # A request of a process that just died may still be on its way into the history.
        newest = max(_attempted(entry) for entry in leftovers)
        wait = self.o.reconcile_delay - (datetime.now(UTC) - newest).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)
        gate = asyncio.Semaphore(self._concurrency(len(leftovers)))

        async def settle(entry: JournalEntry) -> None:
            async with gate:
                if await self._reconcile(entry.key) is _Verdict.ABSENT:
                    await self._mark(entry.key, State.PLANNED)
                    self.tally.resent += 1

        await asyncio.gather(*(settle(entry) for entry in leftovers))

    async def _give_back_not_sent(self) -> None:
        """Messages a stop left ``not_sent`` go out in this run."""
        entries = self.journal.entries(self.campaign, {State.NOT_SENT})
        if not entries:
            return
        self.tally.know(entries)
        keys = [entry.key for entry in entries]
        await self.write(lambda journal: journal.mark_planned(keys))
        for key in keys:
            self.tally.move(key, State.PLANNED)

    async def _send_planned(self) -> None:
        planned = self.journal.entries(self.campaign, {State.PLANNED})
        self.tally.know(planned)
        queue = deque(planned)
        self._emit()
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._concurrency(len(queue))):
                    group.create_task(self._work(queue))
        except ExceptionGroup as failed:
            # A worker's unexpected error cancels the others (their messages stay in_flight,
            # for the next run to reconcile); callers get that error itself, not a group.
            raise failed.exceptions[0] from None

    async def _finish_stopped(self) -> None:
        """After a stop, everything still planned becomes ``not_sent`` with the reason."""
        if self.stopped is None:
            return
        reason = (
            AUTHENTICATION_REASON
            if isinstance(self.stopped, AuthenticationError)
            else OUT_OF_CREDITS_REASON
        )
        entries = self.journal.entries(self.campaign, {State.PLANNED})
        if not entries:
            return
        self.tally.know(entries)
        keys = [entry.key for entry in entries]
        await self.write(lambda journal: journal.mark_not_sent(keys, reason))
        for key in keys:
            self.tally.move(key, State.NOT_SENT)
            self._settled(key)

    # -- one message ------------------------------------------------------------------------

    async def _work(self, queue: deque[JournalEntry]) -> None:
        while queue and not self.halt.is_set():
            entry = queue.popleft()
            tries = _Tries()
            while await self._attempt(entry, tries) is _Next.AGAIN:
                pass

    async def _attempt(self, entry: JournalEntry, tries: _Tries) -> _Next:
        """One request for ``entry``, recorded before and after; AGAIN when it should be retried."""
        if not await self._unless_halted(self.limiter.acquire()):
            return _Next.DONE  # still planned: a later run sends it
        key = entry.key
        await self.write(lambda journal: journal.mark_in_flight(key))
        self.tally.move(key, State.IN_FLIGHT)
        try:
            sms = await self.client.send(
                to=entry.to,
                message=entry.text,
                sender=self.o.sender,
                whendelivered=self.o.whendelivered,
                flash=self.o.flash,
                dontlog=self.o.dontlog,
            )
        except StopCampaignError as exc:
            # 401 and credit failures mean 46elks did not take the message.
            await self._mark(key, State.PLANNED)
            self._stop(exc)
            return _Next.DONE
        except RateLimitedError as exc:
            return await self._rate_limited(key, tries, exc)
        except RejectedError as exc:
            await self._mark(key, State.REJECTED, str(exc))
            self._settled(key)
            return _Next.DONE
        except NotReachedError as exc:
            return await self._not_reached(key, tries, exc)
        except (UnknownOutcomeError, ApiError) as exc:
            return await self._unknown_outcome(key, tries, exc)
        await self._mark_sent(key, sms)
        return _Next.DONE

    async def _rate_limited(self, key: str, tries: _Tries, exc: RateLimitedError) -> _Next:
        # Pausing the shared limiter slows every worker, not only this one.
        self.limiter.pause(exc.retry_after)
        self.tally.rate_limited += 1
        tries.limited += 1
        if tries.limited >= self.o.max_rate_limited:
            await self._give_up(key, f"{exc}; gave up after {tries.limited} such answers")
            return _Next.DONE
        await self._mark(key, State.PLANNED)
        return _Next.AGAIN

    async def _not_reached(self, key: str, tries: _Tries, exc: NotReachedError) -> _Next:
        tries.attempts += 1
        if tries.attempts >= self.o.max_attempts:
            await self._give_up(key, f"{exc}; gave up after {tries.attempts} attempts")
            return _Next.DONE
        await self._mark(key, State.PLANNED)
        return await self._after_backoff(tries)

    async def _unknown_outcome(self, key: str, tries: _Tries, exc: ElksxlError) -> _Next:
        """The request may have been processed: only the history may allow a resend."""
        tries.attempts += 1
        await self._mark(key, State.UNKNOWN, str(exc))
        await self.clock.sleep(self.o.reconcile_delay)
        if await self._reconcile(key) is not _Verdict.ABSENT:
            return _Next.DONE
        if tries.attempts >= self.o.max_attempts:
            await self._give_up(key, f"{exc}; not sent after {tries.attempts} attempts")
            return _Next.DONE
        await self._mark(key, State.PLANNED)
        self.tally.resent += 1
        return await self._after_backoff(tries)

    async def _after_backoff(self, tries: _Tries) -> _Next:
        halted = not await self._unless_halted(self.clock.sleep(self._backoff(tries.attempts)))
        return _Next.DONE if halted else _Next.AGAIN

    # -- reconciliation ---------------------------------------------------------------------

    async def _reconcile(self, key: str) -> _Verdict:
        """Look an ``unknown`` entry up in the history; FOUND marks it sent, ABSENT changes none."""
        entry = self.journal.entry(key)
        assert entry is not None  # every key here came from this journal
        found = await self._lookup(entry)
        if isinstance(found, ElksxlError):
            reason = (
                f"outcome unknown, and the 46elks history could not be read ({found}): "
                "run again to check it before anything is resent"
            )
            await self._undecided(key, reason)
            return _Verdict.UNDECIDED
        matches, undecidable = found
        # Claims are checked again now, without an await since, so two lookups running side by
        # side can never both take the same SMS.
        sms = next((m for m in reversed(matches) if not self._claimed(m, key)), None)
        if sms is not None:  # the oldest match: the earliest attempt that got through
            await self._mark_sent(key, sms)
            return _Verdict.FOUND
        if undecidable:
            reason = (
                f"outcome unknown: the 46elks history has a message to {entry.to} without its "
                "text (dontlog), so whether this one was sent cannot be told; check and decide"
            )
            await self._undecided(key, reason)
            return _Verdict.UNDECIDED
        return _Verdict.ABSENT

    async def _lookup(self, entry: JournalEntry) -> tuple[list[Sms], bool] | ElksxlError:
        """The history search, tried again while it fails; the last failure when it never works."""
        failure: ElksxlError | None = None
        for attempt in range(1, self.o.max_attempts + 1):
            if attempt > 1:
                await self.clock.sleep(self._backoff(attempt - 1))
            try:
                return await self._search(entry)
            except StopCampaignError as exc:
                self._stop(exc)
                return exc
            except ElksxlError as exc:  # a failed lookup changed nothing at 46elks
                failure = exc
        assert failure is not None
        return failure

    async def _search(self, entry: JournalEntry) -> tuple[list[Sms], bool]:
        """Unclaimed outgoing SMS to ``entry.to`` near its attempt with its text, newest first;
        and whether a nearby SMS has no text to compare (dontlog): then absence is unprovable.
        """
        moment = _attempted(entry)
        since = moment - self.o.reconcile_window
        until = moment + self.o.reconcile_window
        matches: list[Sms] = []
        undecidable = False
        async for sms in self.client.history(to=entry.to, end=since):
            if sms.created is not None and sms.created < since:
                break  # newest first: everything further is older still
            if not self._candidate(sms, entry, until):
                continue
            if sms.message is None:
                undecidable = True
            elif sms.message == entry.text:
                matches.append(sms)
        return matches, undecidable

    def _candidate(self, sms: Sms, entry: JournalEntry, until: datetime) -> bool:
        if sms.to != entry.to or not sms.direction.startswith("outgoing"):
            return False
        if sms.created is not None and sms.created > until:
            return False
        if sms.cost is None and sms.estimated_cost is not None:
            return False  # a dry run, should the history ever list one: nothing was sent
        return not self._claimed(sms, entry.key)

    def _claimed(self, sms: Sms, key: str) -> bool:
        """Whether ``sms`` belongs to another message (of any campaign in this journal)."""
        if sms.id is None or sms.id in self.claimed:
            return True
        owner = self.journal.by_elks_id(sms.id)
        return owner is not None and owner.key != key

    # -- journal and tally, always together ---------------------------------------------------

    async def _mark(self, key: str, state: State, reason: str = "") -> None:
        match state:
            case State.PLANNED:
                await self.write(lambda journal: journal.mark_planned([key]))
            case State.UNKNOWN:
                await self.write(lambda journal: journal.mark_unknown(key, reason))
            case State.REJECTED:
                await self.write(lambda journal: journal.mark_rejected(key, reason))
            case State.NOT_SENT:
                await self.write(lambda journal: journal.mark_not_sent([key], reason))
            case _:
                raise ValueError(f"{state} has its own call")
        self.tally.move(key, state)

    async def _mark_sent(self, key: str, sms: Sms) -> None:
        sms_id = sms.id
        assert sms_id is not None  # the client returns sends with an id; _claimed skips others
        self.claimed.add(sms_id)
        at = sms.created or datetime.now(UTC)
        await self.write(
            lambda journal: journal.mark_sent(
                key, elks_id=sms_id, parts=sms.parts, cost=sms.cost, at=at
            )
        )
        self.tally.move(key, State.SENT)
        self.tally.cost += sms.cost or 0
        self.accepted_at.append(self.clock.now())
        self._settled(key)

    async def _undecided(self, key: str, reason: str) -> None:
        await self._mark(key, State.UNKNOWN, reason)
        self._settled(key)

    async def _give_up(self, key: str, reason: str) -> None:
        if self.tally.states[key] is State.UNKNOWN:
            await self._mark(key, State.PLANNED)  # the journal allows not_sent only from here
        await self._mark(key, State.NOT_SENT, reason)
        self._settled(key)

    def _settled(self, key: str) -> None:
        if self.on_settled is not None:
            entry = self.journal.entry(key)
            assert entry is not None
            self.on_settled(entry)
        self._emit()

    # -- stopping, waiting, progress ---------------------------------------------------------

    def _stop(self, exc: StopCampaignError) -> None:
        if self.stopped is None:
            self.stopped = exc
        self.halt.set()

    async def _watch_cancel(self) -> None:
        if self.cancel is not None:
            await self.cancel.wait()
            self.halt.set()

    async def _unless_halted(self, waiting: Awaitable[None]) -> bool:
        """Await ``waiting`` unless the run halts first; True when it completed."""
        task = asyncio.ensure_future(waiting)
        if not self.halt.is_set():
            halted = asyncio.ensure_future(self.halt.wait())
            await asyncio.wait({task, halted}, return_when=asyncio.FIRST_COMPLETED)
            halted.cancel()
        if task.done():
            task.result()
            return not self.halt.is_set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter, so workers do not retry in lockstep."""
        ceiling = min(self.o.max_backoff, self.o.backoff * 2 ** (attempt - 1))
        return self.random.uniform(ceiling / 2, ceiling)

    def _concurrency(self, messages: int) -> int:
        """Workers for ``messages``: enough that latency does not lower the configured rate."""
        size = self.o.concurrency or concurrency_for(
            self.limiter.rate_per_minute, self.o.expected_latency
        )
        return max(1, min(size, messages))

    async def _tick(self) -> None:
        while True:
            await self.clock.sleep(self.o.progress_interval)
            self._emit()

    def _emit(self) -> None:
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
                rate_per_minute=len(self.accepted_at) / span * 60 if span > 0 else 0.0,
                elapsed=elapsed,
                rate_limited=self.tally.rate_limited,
            )
        )


def _attempted(entry: JournalEntry) -> datetime:
    moment = entry.attempted_at or entry.planned_at
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
