"""The sender's journal writes: one thread, its own connection, concurrent writes grouped
into batches that commit (and fsync) together.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..journal import Journal

__all__ = ["JournalWriter"]

_T = TypeVar("_T")


class JournalWriter:
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
