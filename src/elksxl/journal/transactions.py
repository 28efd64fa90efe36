"""The journal's one SQLite connection and its transactions: how every write is made durable.

Every write is its own transaction, committed (and fsynced) before the call returns, unless
it runs inside :meth:`Transactions.batch`: then the batch is one transaction, each write in it
runs in its own savepoint (one that raises is undone alone), and nothing is durable, or
visible to another connection, before the batch commits. SQLite failures become
:class:`~elksxl.errors.JournalError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import JournalError

__all__ = ["Transactions"]


class Transactions:
    """Opens, configures and closes the connection; runs writes, alone or batched."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._batch_open = False
        self._savepoints = 0  # names each operation's savepoint inside a batch

    @classmethod
    def connect(cls, path: Path) -> Transactions:
        """Open (creating directories and file as needed) and configure the file at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every commit is explicit.
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from exc
        transactions = cls(conn, path)
        try:
            transactions._configure()
        except BaseException:
            conn.close()
            raise
        return transactions

    def _configure(self) -> None:
        try:
            # WAL: readers (status, the delivery webhook) never block the sender, and a commit
            # is one append to the log.
            self.conn.execute("PRAGMA journal_mode = WAL")
            # FULL fsyncs the WAL on every commit. With NORMAL a commit survives a crash of the
            # process but not of the machine; losing an in_flight record after the request has
            # left would let a resume send that message a second time.
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path} is not an elksxl journal: {exc}") from exc

    def user_version(self) -> int:
        """The schema version recorded in the file."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around many writes: one ``BEGIN IMMEDIATE ... COMMIT``, one fsync.

        Inside it every write runs in its own savepoint, so a write that raises is undone
        alone and raises to its caller while the others stay in the batch. Nothing is
        committed, or seen by another connection, before the block ends; an exception leaving
        the block rolls the whole batch back.
        """
        if self._batch_open:
            raise JournalError("a journal batch is already open: batches do not nest")
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc
        self._batch_open = True
        try:
            yield
            if not conn.in_transaction:
                # SQLite rolls a transaction back by itself on some errors (disk full, I/O):
                # what looked done in this batch is gone, so it must not look committed.
                raise JournalError(f"the journal {self.path} lost a batch: it was rolled back")
            conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise self._failure(exc) from exc
            raise
        finally:
            self._batch_open = False

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on success; SQLite failures become JournalError.

        IMMEDIATE takes the write lock up front, so two writers (the sender, a delivery
        webhook) wait on each other instead of failing a lock upgrade half-way. Inside
        :meth:`batch` the write is a savepoint of the batch's transaction instead.
        """
        if self._batch_open:
            with self._savepoint() as conn:
                yield conn
            return
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    @contextmanager
    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        """One write of a batch: released into the batch on success, undone alone on error."""
        conn = self.conn
        if not conn.in_transaction:
            raise JournalError(f"the journal {self.path} lost a batch: it was rolled back")
        self._savepoints += 1
        name = f"elksxl_op_{self._savepoints}"
        try:
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    # ROLLBACK TO keeps the savepoint open; RELEASE then drops it (and, as it
                    # was undone, adds nothing to the batch).
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    def _rollback(self) -> None:
        # A failing ROLLBACK is not reported: the failure that led here is the one that matters.
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def _failure(self, exc: sqlite3.Error) -> JournalError:
        return JournalError(f"the journal {self.path} could not record a change: {exc}")
