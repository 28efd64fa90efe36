"""The durable SQLite journal: every campaign and the state of every message it holds.

The journal is how elksxl keeps its promise that nothing is sent twice and nothing is lost:
a message is committed as ``in_flight`` before its request leaves, so a process that dies at
any point leaves a record that says which messages must be reconciled before any resend.

States and the operations that move between them::

    planned ──► in_flight ──► sent ──► delivered | failed      (mark_delivery)
     ▲   │        │  │  └───► rejected
     │   │        │  └──────► unknown ──► in_flight | sent | planned   (after reconciliation)
     │   └────────┴─────────► not_sent
     └── mark_planned ◄──────── not_sent | unknown | in_flight

    operation        legal from                                  to
    add_planned      (a new key; a known key is left alone)      planned
    mark_in_flight   planned, unknown                            in_flight   (attempts + 1)
    mark_sent        in_flight, unknown, planned                 sent
    mark_rejected    in_flight                                   rejected
    mark_unknown     in_flight, unknown                          unknown
    mark_not_sent    planned, in_flight, not_sent                not_sent    (with the reason)
    mark_planned     planned, in_flight, unknown, not_sent       planned
    mark_delivery    sent                                        delivered | failed

``sent`` from ``unknown`` or ``planned`` and ``in_flight`` from ``unknown`` are the
reconciliation paths: the caller (the sender) has looked the message up in the API history
first. ``in_flight -> planned`` is for a request that provably never reached 46elks
(connection refused, HTTP 429). ``rejected``, ``sent``, ``delivered`` and ``failed``
(:data:`SETTLED`) are never sent again; ``delivered`` and ``failed`` never change. Any other
move raises :class:`IllegalTransitionError` and changes nothing.

Every write is its own transaction, committed (and fsynced) before the call returns, unless
it runs inside :meth:`Journal.batch`: then the batch is one transaction, each operation in it
runs in its own savepoint (one that raises is undone alone), and nothing is durable, or
visible to another connection, before the batch commits. The sender groups concurrent
writes this way so that one fsync covers many messages.

A :class:`Journal` owns one connection and is used from one thread (the sender is async and
runs in one thread); sqlite3 refuses use from another thread. Other processes (a delivery
webhook, a second ``elksxl status``) may open the same file: WAL lets them read while the
sender writes. Credentials are never stored: no column can hold them and campaign options
refuse credential-like keys.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .errors import IllegalTransitionError, JournalError

__all__ = [
    "SCHEMA_VERSION",
    "SETTLED",
    "Campaign",
    "IllegalTransitionError",
    "Journal",
    "JournalEntry",
    "JournalError",
    "PlannedMessage",
    "State",
    "message_key",
]


class State(StrEnum):
    PLANNED = "planned"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    DELIVERED = "delivered"
    FAILED = "failed"
    NOT_SENT = "not_sent"


SETTLED: frozenset[State] = frozenset({State.SENT, State.REJECTED, State.DELIVERED, State.FAILED})
"""States whose messages are never sent again."""


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    row: int
    to: str
    text: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    key: str
    campaign: str
    row: int
    to: str
    text: str
    state: State
    attempts: int
    elks_id: str | None
    parts: int | None
    cost: int | None
    error: str | None
    planned_at: datetime
    attempted_at: datetime | None
    settled_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    source: str
    sheet: str
    sender: str
    options: Mapping[str, object]
    created_at: datetime
    updated_at: datetime
    currency: str | None = None  # the account currency, recorded at the first send
    message: str | None = None  # the message template the campaign was sent with


def message_key(campaign: str, row: int, to: str, text: str) -> str:
    """The idempotency key of one message: sha256 hex of campaign, row, recipient and text."""
    # A JSON array is an unambiguous encoding: no separator character can fake a boundary.
    payload = json.dumps([campaign, row, to, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _create_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE campaigns (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            sheet TEXT NOT NULL,
            sender TEXT NOT NULL,
            options TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE messages (
            key TEXT PRIMARY KEY,
            campaign TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            "row" INTEGER NOT NULL,
            "to" TEXT NOT NULL,
            text TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'sent', 'rejected',
                'unknown', 'delivered', 'failed', 'not_sent')),
            attempts INTEGER NOT NULL DEFAULT 0,
            elks_id TEXT UNIQUE,
            parts INTEGER,
            cost INTEGER,
            error TEXT,
            planned_at TEXT NOT NULL,
            attempted_at TEXT,
            settled_at TEXT,
            delivered_at TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX messages_campaign_state ON messages (campaign, state)")
    conn.execute('CREATE INDEX messages_campaign_row ON messages (campaign, "row")')


def _add_campaign_details_v2(conn: sqlite3.Connection) -> None:
    """Campaigns remember the account currency and the message they were sent with."""
    conn.execute("ALTER TABLE campaigns ADD COLUMN currency TEXT")
    conn.execute("ALTER TABLE campaigns ADD COLUMN message TEXT")


# The migration hook: _MIGRATIONS[n] takes a journal from schema version n to n + 1.
# Append a function to change the schema; never edit one that has shipped.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_v1,
    _add_campaign_details_v2,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_COLUMNS = (
    'key, campaign, "row", "to", text, state, attempts, elks_id, parts, cost, error, '
    "planned_at, attempted_at, settled_at, delivered_at"
)
# Matched against option keys lowercased with "_" and "-" removed.
_CREDENTIAL_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "username",
    "credential",
    "apikey",
    "authorization",
)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    # 46elks reports UTC without a zone, so a naive datetime is taken to be UTC.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _at(moment: datetime | None) -> datetime:
    assert moment is not None, "NOT NULL column"
    return moment


def _entry(row: Any) -> JournalEntry:
    key, campaign, number, to, text, state, attempts, elks_id, parts, cost, error, *times = row
    planned, attempted, settled, delivered = (_parse(t) for t in times)
    return JournalEntry(
        key=key,
        campaign=campaign,
        row=number,
        to=to,
        text=text,
        state=State(state),
        attempts=attempts,
        elks_id=elks_id,
        parts=parts,
        cost=cost,
        error=error,
        planned_at=_at(planned),
        attempted_at=attempted,
        settled_at=settled,
        delivered_at=delivered,
    )


_CAMPAIGN_COLUMNS = "id, source, sheet, sender, options, created_at, updated_at, currency, message"


def _campaign(row: Any) -> Campaign:
    i, src, sheet, sender, opts, made, upd, currency, message = row
    return Campaign(
        i,
        src,
        sheet,
        sender,
        json.loads(opts),
        _at(_parse(made)),
        _at(_parse(upd)),
        currency,
        message,
    )


def _credential_keys(value: object) -> list[str]:
    """Keys anywhere in a JSON-like value whose names suggest a credential."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for name, inner in value.items():
            normalized = str(name).lower().replace("_", "").replace("-", "")
            if any(word in normalized for word in _CREDENTIAL_WORDS):
                found.append(str(name))
            found.extend(_credential_keys(inner))
    elif isinstance(value, list | tuple):
        for inner in value:
            found.extend(_credential_keys(inner))
    return found


def _marks(states: Collection[State]) -> str:
    return ", ".join("?" for _ in states)


# The state machine of the module docstring, as data: operation -> (legal from, to).
# mark_delivery is apart: it moves only sent -> delivered | failed and never raises.
_TRANSITIONS: dict[str, tuple[tuple[State, ...], State]] = {
    "mark_in_flight": ((State.PLANNED, State.UNKNOWN), State.IN_FLIGHT),
    "mark_sent": ((State.IN_FLIGHT, State.UNKNOWN, State.PLANNED), State.SENT),
    "mark_rejected": ((State.IN_FLIGHT,), State.REJECTED),
    "mark_unknown": ((State.IN_FLIGHT, State.UNKNOWN), State.UNKNOWN),
    "mark_not_sent": ((State.PLANNED, State.IN_FLIGHT, State.NOT_SENT), State.NOT_SENT),
    "mark_planned": (
        (State.PLANNED, State.IN_FLIGHT, State.UNKNOWN, State.NOT_SENT),
        State.PLANNED,
    ),
}


def _update(operation: str, assignments: str) -> tuple[str, tuple[State, ...], tuple[str, str]]:
    """The guarded UPDATE for ``operation``, its legal source states, and its leading params."""
    allowed, target = _TRANSITIONS[operation]
    sql = (
        f"UPDATE messages SET state = ?, updated_at = ?, {assignments}"
        f" WHERE key = ? AND state IN ({_marks(allowed)})"
    )
    return sql, allowed, (target.value, _iso(_now()))


class Journal:
    """A SQLite journal file. Open with :meth:`open`; use as a context manager or :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._batch_open = False
        self._savepoints = 0  # names each operation's savepoint inside a batch

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (creating directories, file and schema as needed) the journal at ``path``."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every commit is explicit.
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from exc
        journal = cls(conn, path)
        try:
            journal._configure()
            journal._migrate()
        except BaseException:
            conn.close()
            raise
        return journal

    def _configure(self) -> None:
        try:
            # WAL: readers (status, the delivery webhook) never block the sender, and a commit
            # is one append to the log.
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL fsyncs the WAL on every commit. With NORMAL a commit survives a crash of the
            # process but not of the machine; losing an in_flight record after the request has
            # left would let a resume send that message a second time.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path} is not an elksxl journal: {exc}") from exc

    def _migrate(self) -> None:
        if self._user_version() == SCHEMA_VERSION:
            return
        while True:
            # The version is read again under the write lock: another process may have
            # migrated the file meanwhile.
            with self._write() as conn:
                version = self._user_version()
                if version > SCHEMA_VERSION:
                    raise JournalError(
                        f"the journal {self.path} has schema version {version}, newer than this "
                        f"elksxl understands ({SCHEMA_VERSION}): upgrade elksxl"
                    )
                if version == SCHEMA_VERSION:
                    return
                _MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    def _user_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around many operations: one ``BEGIN IMMEDIATE ... COMMIT``, one fsync.

        Inside it every write runs in its own savepoint, so an operation that raises (an
        :class:`IllegalTransitionError`, say) is undone alone and raises to its caller while
        the others stay in the batch. Nothing is committed, or seen by another connection,
        before the block ends; an exception leaving the block rolls the whole batch back.
        A ``mark_in_flight`` inside a batch is durable only once the batch has committed.
        """
        if self._batch_open:
            raise JournalError("a journal batch is already open: batches do not nest")
        conn = self._conn
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on success; SQLite failures become JournalError.

        IMMEDIATE takes the write lock up front, so two writers (the sender, a delivery
        webhook) wait on each other instead of failing a lock upgrade half-way. Inside
        :meth:`batch` the write is a savepoint of the batch's transaction instead.
        """
        if self._batch_open:
            with self._savepoint() as conn:
                yield conn
            return
        conn = self._conn
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
        """One operation of a batch: released into the batch on success, undone alone on error."""
        conn = self._conn
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
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _failure(self, exc: sqlite3.Error) -> JournalError:
        return JournalError(f"the journal {self.path} could not record a change: {exc}")

    # -- campaigns ---------------------------------------------------------------------------

    def ensure_campaign(
        self,
        campaign: str,
        *,
        source: str,
        sheet: str,
        sender: str,
        options: Mapping[str, object],
        currency: str | None = None,
        message: str | None = None,
    ) -> None:
        """Record the campaign, or refresh its details when it exists (a resume).

        ``currency`` and ``message`` are kept as they were when given as None.
        """
        suspicious = _credential_keys(options)
        if suspicious:
            raise JournalError(f"campaign options must not hold credentials: {suspicious}")
        try:
            encoded = json.dumps(dict(options), sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JournalError(f"campaign options must be plain JSON values: {exc}") from exc
        now = _iso(_now())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO campaigns (id, source, sheet, sender, options, created_at,"
                " updated_at, currency, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET source = excluded.source,"
                " sheet = excluded.sheet, sender = excluded.sender, options = excluded.options,"
                " updated_at = excluded.updated_at,"
                " currency = coalesce(excluded.currency, currency),"
                " message = coalesce(excluded.message, message)",
                (campaign, source, sheet, sender, encoded, now, now, currency, message),
            )

    def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at, id"
        )
        return [_campaign(row) for row in rows]

    def campaign(self, campaign: str) -> Campaign | None:
        """The campaign with this id, or None."""
        row = self._conn.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?", (campaign,)
        ).fetchone()
        return None if row is None else _campaign(row)

    def delete_campaign(self, campaign: str) -> int:
        """Forget a campaign and its messages; returns how many messages were forgotten.

        Refused while a message may exist at 46elks without the journal knowing it
        (in_flight, unknown): forgetting those would allow a double send.
        """
        with self._write() as conn:
            (pending,) = conn.execute(
                "SELECT count(*) FROM messages WHERE campaign = ? AND state IN (?, ?)",
                (campaign, State.IN_FLIGHT, State.UNKNOWN),
            ).fetchone()
            if pending:
                raise JournalError(
                    f"campaign {campaign!r} has {pending} message(s) in flight or of unknown "
                    "outcome: resume it to reconcile them before deleting it"
                )
            (count,) = conn.execute(
                "SELECT count(*) FROM messages WHERE campaign = ?", (campaign,)
            ).fetchone()
            conn.execute("DELETE FROM campaigns WHERE id = ?", (campaign,))
            return int(count)

    # -- messages ----------------------------------------------------------------------------

    def add_planned(self, campaign: str, messages: Iterable[PlannedMessage]) -> int:
        """Record messages as planned in one transaction; known keys are left as they are.

        Returns how many messages were new.
        """
        now = _iso(_now())
        rows = (
            (message_key(campaign, m.row, m.to, m.text), campaign, m.row, m.to, m.text, now, now)
            for m in messages
        )
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM campaigns WHERE id = ?", (campaign,)).fetchone() is None:
                raise JournalError(f"unknown campaign {campaign!r}: call ensure_campaign first")
            before = conn.total_changes
            # ON CONFLICT (key) DO NOTHING rather than INSERT OR IGNORE: only a repeated key is
            # skipped; any other constraint failure still raises.
            conn.executemany(
                'INSERT INTO messages (key, campaign, "row", "to", text, state, planned_at,'
                " updated_at) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                rows,
            )
            return conn.total_changes - before

    def discard(self, keys: Iterable[str]) -> int:
        """Forget messages that provably never reached 46elks (planned, not_sent); returns how many.

        Used when a re-run no longer plans them (the row was removed or the text changed), so
        a resume cannot send a message the user no longer wants. Anything that may have
        arrived (in_flight, unknown, sent, ...) is never discarded.
        """
        keys = list(keys)
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(
                "DELETE FROM messages WHERE key = ? AND state IN (?, ?)",
                [(key, State.PLANNED, State.NOT_SENT) for key in keys],
            )
            return conn.total_changes - before

    def entries(self, campaign: str, states: Collection[State] | None = None) -> list[JournalEntry]:
        """The campaign's messages (optionally only those in ``states``), ordered by row."""
        if states is None:
            cursor = self._conn.execute(
                f'SELECT {_COLUMNS} FROM messages WHERE campaign = ? ORDER BY "row", key',
                (campaign,),
            )
        else:
            cursor = self._conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE campaign = ?"
                f' AND state IN ({_marks(states)}) ORDER BY "row", key',
                (campaign, *states),
            )
        return [_entry(row) for row in cursor]

    def entry(self, key: str) -> JournalEntry | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else _entry(row)

    def by_elks_id(self, elks_id: str) -> JournalEntry | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE elks_id = ?", (elks_id,)
        ).fetchone()
        return None if row is None else _entry(row)

    def mark_in_flight(self, key: str) -> int:
        """Commit the message as in flight before its request leaves; returns the attempt number."""
        self._move(key, "mark_in_flight", "attempts = attempts + 1, attempted_at = ?", _iso(_now()))
        (attempts,) = self._conn.execute(
            "SELECT attempts FROM messages WHERE key = ?", (key,)
        ).fetchone()
        return int(attempts)

    def mark_sent(
        self, key: str, *, elks_id: str, parts: int | None, cost: int | None, at: datetime
    ) -> None:
        """46elks accepted the message (or reconciliation found it) under ``elks_id``."""
        other = self.by_elks_id(elks_id)
        if other is not None and other.key != key:
            # Two messages with one SMS id means a reconciliation matched the wrong message.
            raise JournalError(
                f"SMS id {elks_id} is already recorded for row {other.row} of campaign "
                f"{other.campaign!r}"
            )
        self._move(
            key,
            "mark_sent",
            "elks_id = ?, parts = ?, cost = ?, error = NULL, settled_at = ?",
            *(elks_id, parts, cost, _iso(at)),
        )

    def mark_rejected(self, key: str, error: str) -> None:
        """46elks refused the message; it will not be sent again."""
        self._move(key, "mark_rejected", "error = ?, settled_at = ?", error, _iso(_now()))

    def mark_unknown(self, key: str, error: str) -> None:
        """The request may or may not have been processed: reconcile before any resend."""
        self._move(key, "mark_unknown", "error = ?", error)

    def mark_not_sent(self, keys: Iterable[str], reason: str) -> None:
        """These messages were not sent (e.g. out of credits); all or none are marked."""
        self._move_many(keys, "mark_not_sent", "error = ?", reason)

    def mark_planned(self, keys: Iterable[str]) -> None:
        """Give messages back to the sender (a resume); all or none are marked."""
        self._move_many(keys, "mark_planned", "error = NULL")

    def mark_delivery(self, elks_id: str, status: str, at: datetime | None) -> JournalEntry | None:
        """Apply a delivery report; returns the entry, or None for an SMS id the journal lacks.

        ``delivered`` and ``failed`` settle a sent message; any other status (``sent``,
        ``created``, values 46elks may add) changes nothing. Duplicate reports change nothing,
        and ``delivered``/``failed`` are final: the first one to arrive wins.
        """
        outcome = status.strip().lower()
        with self._write() as conn:
            if outcome in (State.DELIVERED, State.FAILED):
                delivered_at = _iso(at or _now()) if outcome == State.DELIVERED else None
                conn.execute(
                    "UPDATE messages SET state = ?, delivered_at = ?, updated_at = ?"
                    " WHERE elks_id = ? AND state = 'sent'",
                    (outcome, delivered_at, _iso(_now()), elks_id),
                )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE elks_id = ?", (elks_id,)
            ).fetchone()
        return None if row is None else _entry(row)

    def counts(self, campaign: str) -> dict[State, int]:
        """How many of the campaign's messages are in each state (every state, 0 where none)."""
        found = dict(
            self._conn.execute(
                "SELECT state, count(*) FROM messages WHERE campaign = ? GROUP BY state",
                (campaign,),
            ).fetchall()
        )
        return {state: int(found.get(state.value, 0)) for state in State}

    def total_cost(self, campaign: str) -> int:
        """The cost 46elks reported for the campaign's messages, in 1/10000 of the currency."""
        (total,) = self._conn.execute(
            "SELECT coalesce(sum(cost), 0) FROM messages WHERE campaign = ?", (campaign,)
        ).fetchone()
        return int(total)

    # -- transitions -------------------------------------------------------------------------

    def _move(self, key: str, operation: str, assignments: str, *params: object) -> None:
        sql, allowed, head = _update(operation, assignments)
        with self._write() as conn:
            # The state test is part of the UPDATE, so the check and the change are one step.
            if conn.execute(sql, (*head, *params, key, *allowed)).rowcount != 1:
                raise self._refusal(conn, key, operation, allowed)

    def _move_many(
        self, keys: Iterable[str], operation: str, assignments: str, *params: object
    ) -> None:
        sql, allowed, head = _update(operation, assignments)
        unique = list(dict.fromkeys(keys))
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(sql, ((*head, *params, key, *allowed) for key in unique))
            if conn.total_changes - before == len(unique):
                return
            for key in unique:
                row = conn.execute("SELECT state FROM messages WHERE key = ?", (key,)).fetchone()
                if row is None or row[0] not in allowed:
                    raise self._refusal(conn, key, operation, allowed)
            raise JournalError(f"{operation}: not every message changed")  # pragma: no cover

    def _refusal(
        self, conn: sqlite3.Connection, key: str, operation: str, allowed: Sequence[State]
    ) -> JournalError:
        row = conn.execute(
            'SELECT "row", "to", state FROM messages WHERE key = ?', (key,)
        ).fetchone()
        if row is None:
            return JournalError(f"{operation}: no message with key {key}")
        number, to, state = row
        return IllegalTransitionError(
            f"{operation}: the message for row {number} to {to} is {state}; "
            f"{operation} needs {' or '.join(allowed)}",
            key=key,
            state=State(state),
            operation=operation,
        )
