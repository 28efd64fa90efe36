"""The journal store: :class:`Journal`, the campaigns and messages of one SQLite file.

Writes go through :class:`~elksxl.journal.transactions.Transactions` (each one durable when
it returns, or grouped by :meth:`Journal.batch`); every ``mark_*`` is a guarded move of the
state machine in :mod:`elksxl.journal.states`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..errors import JournalError
from .records import (
    COLUMNS,
    Campaign,
    JournalEntry,
    PlannedMessage,
    entry_from_row,
    iso,
    message_key,
    now,
    parse,
    stored,
)
from .schema import migrate
from .states import State, guarded_update, marks, refusal
from .transactions import Transactions

__all__ = ["Journal"]

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
_CAMPAIGN_COLUMNS = "id, source, sheet, sender, options, created_at, updated_at, currency, message"


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


def _campaign(row: Any) -> Campaign:
    id_, source, sheet, sender, options, created, updated, currency, message = row
    return Campaign(
        id=id_,
        source=source,
        sheet=sheet,
        sender=sender,
        options=json.loads(options),
        created_at=stored(parse(created)),
        updated_at=stored(parse(updated)),
        currency=currency,
        message=message,
    )


class Journal:
    """A SQLite journal file. Open with :meth:`open`; use as a context manager or :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._transactions = Transactions(conn, path)
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (creating directories, file and schema as needed) the journal at ``path``."""
        transactions = Transactions.connect(Path(path))
        try:
            migrate(transactions)
        except BaseException:
            transactions.close()
            raise
        return cls(transactions.conn, transactions.path)

    def close(self) -> None:
        self._transactions.close()

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
        with self._transactions.batch():
            yield

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

        ``currency`` and ``message`` are stored when given; None keeps what is recorded.
        """
        suspicious = _credential_keys(options)
        if suspicious:
            raise JournalError(f"campaign options must not hold credentials: {suspicious}")
        try:
            encoded = json.dumps(dict(options), sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JournalError(f"campaign options must be plain JSON values: {exc}") from exc
        moment = iso(now())
        with self._transactions.write() as conn:
            conn.execute(
                f"INSERT INTO campaigns ({_CAMPAIGN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET source = excluded.source,"
                " sheet = excluded.sheet, sender = excluded.sender, options = excluded.options,"
                " updated_at = excluded.updated_at,"
                " currency = coalesce(excluded.currency, campaigns.currency),"
                " message = coalesce(excluded.message, campaigns.message)",
                (campaign, source, sheet, sender, encoded, moment, moment, currency, message),
            )

    def campaign(self, campaign: str) -> Campaign | None:
        """The campaign with id ``campaign``, or None when the journal has none."""
        row = self._conn.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?", (campaign,)
        ).fetchone()
        return None if row is None else _campaign(row)

    def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at, id"
        )
        return [_campaign(row) for row in rows]

    def delete_campaign(self, campaign: str) -> int:
        """Forget a campaign and its messages; returns how many messages were forgotten.

        Refused while a message may exist at 46elks without the journal knowing it
        (in_flight, unknown): forgetting those would allow a double send.
        """
        with self._transactions.write() as conn:
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
        at = iso(now())
        rows = (
            (message_key(campaign, m.row, m.to, m.text), campaign, m.row, m.to, m.text, at, at)
            for m in messages
        )
        with self._transactions.write() as conn:
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
        with self._transactions.write() as conn:
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
                f'SELECT {COLUMNS} FROM messages WHERE campaign = ? ORDER BY "row", key',
                (campaign,),
            )
        else:
            cursor = self._conn.execute(
                f"SELECT {COLUMNS} FROM messages WHERE campaign = ?"
                f' AND state IN ({marks(states)}) ORDER BY "row", key',
                (campaign, *states),
            )
        return [entry_from_row(row) for row in cursor]

    def entry(self, key: str) -> JournalEntry | None:
        row = self._conn.execute(f"SELECT {COLUMNS} FROM messages WHERE key = ?", (key,)).fetchone()
        return None if row is None else entry_from_row(row)

    def by_elks_id(self, elks_id: str) -> JournalEntry | None:
        row = self._conn.execute(
            f"SELECT {COLUMNS} FROM messages WHERE elks_id = ?", (elks_id,)
        ).fetchone()
        return None if row is None else entry_from_row(row)

    def mark_in_flight(self, key: str) -> int:
        """Commit the message as in flight before its request leaves; returns the attempt number."""
        self._move(key, "mark_in_flight", "attempts = attempts + 1, attempted_at = ?", iso(now()))
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
            *(elks_id, parts, cost, iso(at)),
        )

    def mark_rejected(self, key: str, error: str) -> None:
        """46elks refused the message; it will not be sent again."""
        self._move(key, "mark_rejected", "error = ?, settled_at = ?", error, iso(now()))

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

        ``delivered`` and ``failed`` settle a sent message and record the report's time (the
        moment of delivery, or of the failure); any other status (``sent``,
        ``created``, values 46elks may add) changes nothing. Duplicate reports change nothing,
        and ``delivered``/``failed`` are final: the first one to arrive wins.
        """
        outcome = status.strip().lower()
        with self._transactions.write() as conn:
            if outcome in (State.DELIVERED, State.FAILED):
                # For ``failed`` the time of the report: when 46elks gave up on delivering it.
                delivered_at = iso(at or now())
                conn.execute(
                    "UPDATE messages SET state = ?, delivered_at = ?, updated_at = ?"
                    " WHERE elks_id = ? AND state = 'sent'",
                    (outcome, delivered_at, iso(now()), elks_id),
                )
            row = conn.execute(
                f"SELECT {COLUMNS} FROM messages WHERE elks_id = ?", (elks_id,)
            ).fetchone()
        return None if row is None else entry_from_row(row)

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
        sql, allowed, target = guarded_update(operation, assignments)
        with self._transactions.write() as conn:
            # The state test is part of the UPDATE, so the check and the change are one step.
            if conn.execute(sql, (target.value, iso(now()), *params, key, *allowed)).rowcount != 1:
                raise refusal(conn, key, operation, allowed)

    def _move_many(
        self, keys: Iterable[str], operation: str, assignments: str, *params: object
    ) -> None:
        sql, allowed, target = guarded_update(operation, assignments)
        head = (target.value, iso(now()))
        unique = list(dict.fromkeys(keys))
        with self._transactions.write() as conn:
            before = conn.total_changes
            conn.executemany(sql, ((*head, *params, key, *allowed) for key in unique))
            if conn.total_changes - before == len(unique):
                return
            for key in unique:
                row = conn.execute("SELECT state FROM messages WHERE key = ?", (key,)).fetchone()
                if row is None or row[0] not in allowed:
                    raise refusal(conn, key, operation, allowed)
            raise JournalError(f"{operation}: not every message changed")  # pragma: no cover
