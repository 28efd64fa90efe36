"""The message state machine of the journal: the states, and which operation may move which.

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
move raises :class:`~elksxl.errors.IllegalTransitionError` and changes nothing.

The table is enforced in SQL: each move is one ``UPDATE ... WHERE state IN (legal from)``,
so the check and the change are one step even with other writers on the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from enum import StrEnum

from ..errors import IllegalTransitionError, JournalError

__all__ = ["SETTLED", "TRANSITIONS", "State", "guarded_update", "marks", "refusal"]


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


# The state machine of the module docstring, as data: operation -> (legal from, to).
# mark_delivery is apart: it moves only sent -> delivered | failed and never raises.
TRANSITIONS: dict[str, tuple[tuple[State, ...], State]] = {
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


def marks(states: Collection[State]) -> str:
    """The ``?, ?, ...`` placeholders for an ``IN (...)`` over ``states``."""
    return ", ".join("?" for _ in states)


def guarded_update(operation: str, assignments: str) -> tuple[str, tuple[State, ...], State]:
    """The guarded UPDATE for ``operation``, its legal source states, and its target state.

    The statement's parameters are the target state, the update time, those of
    ``assignments``, the key, then the legal states; it changes no row when the message is
    in any other state.
    """
    allowed, target = TRANSITIONS[operation]
    sql = (
        f"UPDATE messages SET state = ?, updated_at = ?, {assignments}"
        f" WHERE key = ? AND state IN ({marks(allowed)})"
    )
    return sql, allowed, target


def refusal(
    conn: sqlite3.Connection, key: str, operation: str, allowed: Sequence[State]
) -> JournalError:
    """Why a guarded UPDATE changed nothing: no such message, or an illegal transition."""
    row = conn.execute('SELECT "row", "to", state FROM messages WHERE key = ?', (key,)).fetchone()
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
