"""What the journal holds, as values: campaigns, planned messages, entries, their keys, and how
a row of the ``messages`` table becomes a :class:`JournalEntry`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .states import State

__all__ = [
    "COLUMNS",
    "Campaign",
    "JournalEntry",
    "PlannedMessage",
    "entry_from_row",
    "iso",
    "message_key",
    "now",
    "parse",
]


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
    message: str | None = None  # the message template source the campaign was sent with


def message_key(campaign: str, row: int, to: str, text: str) -> str:
    """The idempotency key of one message: sha256 hex of campaign, row, recipient and text."""
    # A JSON array is an unambiguous encoding: no separator character can fake a boundary.
    payload = json.dumps([campaign, row, to, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# The columns of the messages table that make a JournalEntry, in entry_from_row's order.
COLUMNS = (
    'key, campaign, "row", "to", text, state, attempts, elks_id, parts, cost, error, '
    "planned_at, attempted_at, settled_at, delivered_at"
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """How the journal stores a moment: ISO 8601 in UTC, to the microsecond."""
    # 46elks reports UTC without a zone, so a naive datetime is taken to be UTC.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def stored(moment: datetime | None) -> datetime:
    """A moment read from a NOT NULL column."""
    assert moment is not None, "NOT NULL column"
    return moment


def entry_from_row(row: Any) -> JournalEntry:
    """The entry for one row selected as :data:`COLUMNS`."""
    key, campaign, number, to, text, state, attempts, elks_id, parts, cost, error, *times = row
    planned, attempted, settled, delivered = (parse(t) for t in times)
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
        planned_at=stored(planned),
        attempted_at=attempted,
        settled_at=settled,
        delivered_at=delivered,
    )
