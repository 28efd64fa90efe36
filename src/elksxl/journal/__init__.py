"""The durable SQLite journal: every campaign and the state of every message it holds.

The journal is how elksxl keeps its promise that nothing is sent twice and nothing is lost:
a message is committed as ``in_flight`` before its request leaves, so a process that dies at
any point leaves a record that says which messages must be reconciled before any resend.

The package, by responsibility:

- :mod:`.states`: the states, :data:`SETTLED`, and the transition table every ``mark_*``
  obeys (the state diagram is drawn there); an illegal move raises
  :class:`~elksxl.errors.IllegalTransitionError` and changes nothing;
- :mod:`.records`: the values (:class:`Campaign`, :class:`PlannedMessage`,
  :class:`JournalEntry`) and :func:`message_key`, the idempotency key;
- :mod:`.schema`: the tables and their append-only migrations (:data:`SCHEMA_VERSION`);
- :mod:`.transactions`: the connection, WAL and ``synchronous = FULL``, and how writes commit;
- :mod:`.store`: :class:`Journal`, the operations on campaigns and messages.

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

Failures are :class:`~elksxl.errors.JournalError` (re-exported here): the campaign must stop,
and nothing may be sent.
"""

from __future__ import annotations

from ..errors import IllegalTransitionError, JournalError
from .records import Campaign, JournalEntry, PlannedMessage, message_key
from .schema import SCHEMA_VERSION
from .states import SETTLED, State
from .store import Journal

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
