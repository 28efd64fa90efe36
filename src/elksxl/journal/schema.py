"""The journal's SQLite schema, built and upgraded by an append-only list of migrations.

``PRAGMA user_version`` holds the schema version of a file; :func:`migrate` runs the
migrations it lacks, each in its own write transaction. Version history:

1. ``campaigns`` and ``messages`` (the state machine of :mod:`elksxl.journal.states`).
2. ``campaigns.currency`` (the account currency, recorded at the first send) and
   ``campaigns.message`` (the message template source the campaign was sent with); both
   NULL for campaigns recorded before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..errors import JournalError
from .transactions import Transactions

__all__ = ["SCHEMA_VERSION", "migrate"]


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


def _add_campaign_currency_and_message(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE campaigns ADD COLUMN currency TEXT")
    conn.execute("ALTER TABLE campaigns ADD COLUMN message TEXT")


# The migration hook: _MIGRATIONS[n] takes a journal from schema version n to n + 1.
# Append a function to change the schema; never edit one that has shipped.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_v1,
    _add_campaign_currency_and_message,
)
SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(transactions: Transactions) -> None:
    """Bring the file to :data:`SCHEMA_VERSION`; refuse a file from a newer elksxl."""
    if transactions.user_version() == SCHEMA_VERSION:
        return
    while True:
        # The version is read again under the write lock: another process may have
        # migrated the file meanwhile.
        with transactions.write() as conn:
            version = transactions.user_version()
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"the journal {transactions.path} has schema version {version}, newer than "
                    f"this elksxl understands ({SCHEMA_VERSION}): upgrade elksxl"
                )
            if version == SCHEMA_VERSION:
                return
            _MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
