"""Which campaign a sheet belongs to, and what a person must be told about it before sending.

A campaign's id lives in the workbook (``Table.campaign_id``). A workbook sent by elksxl 0.1,
which identified campaigns by path, is adopted when it carries results and the journal knows
its old id. The message a campaign was sent with is compared with the one about to be sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .table import STATUS_COLUMN, Table

if TYPE_CHECKING:
    from .journal import Campaign

__all__ = [
    "Notice",
    "has_results",
    "identify",
    "legacy_campaign_id",
    "notice_text",
    "recorded_campaign",
    "sheet_statuses",
]

Lookup = Callable[[str], "Campaign | None"]
"""The journal's campaign by id (None when there is no journal or no such campaign)."""


def legacy_campaign_id(table: Table) -> str:
    """The id elksxl 0.1 gave a campaign: a hash of the workbook's path and sheet.

    Only used to adopt such a campaign when its workbook, carrying results, is sent again.
    """
    source = str(Path(table.source).resolve()) if table.source else ""
    return hashlib.sha256(f"{source}\x00{table.sheet}".encode()).hexdigest()[:20]


class Notice(StrEnum):
    """Things a person must be told before anything is sent."""

    MESSAGE_CHANGED = "message changed"
    NOT_IN_JOURNAL = "not in journal"
    ADOPTED = "adopted"
    NEW_CAMPAIGN = "new campaign"


_NOTICE_TEXT = {
    Notice.MESSAGE_CHANGED: (
        "the message differs from the one this sheet's campaign was sent with: rows marked "
        "sent stay skipped and only the other rows get the new message; start a new campaign "
        "to send it to every valid row"
    ),
    Notice.NOT_IN_JOURNAL: (
        "this workbook's campaign is not in the journal at {journal} (sent from another "
        "computer or with another journal?): rows marked sent are skipped, the rest are sent"
    ),
    Notice.ADOPTED: (
        "resuming the campaign an earlier elksxl recorded for this file; its id is now stored "
        "in the workbook"
    ),
    Notice.NEW_CAMPAIGN: (
        "a new campaign: every valid row gets the message, rows marked sent included"
    ),
}


def notice_text(notice: Notice, journal: Path) -> str:
    return _NOTICE_TEXT[notice].format(journal=journal)


def identify(
    table: Table, message: str, new_campaign: bool, lookup: Lookup | None
) -> tuple[str | None, tuple[Notice, ...]]:
    """The campaign ``table`` belongs to (None: a new one at send), and the notices."""
    if new_campaign:
        known = table.campaign_id is not None or has_results(table)
        return None, (Notice.NEW_CAMPAIGN,) if known else ()
    campaign, notices = table.campaign_id, []
    if campaign is None:
        campaign = _legacy(table, lookup)
        if campaign is None:
            return None, ()
        notices.append(Notice.ADOPTED)
    recorded = lookup(campaign) if lookup is not None else None
    if recorded is None:
        notices.append(Notice.NOT_IN_JOURNAL)
    elif recorded.message is not None and recorded.message != message:
        notices.append(Notice.MESSAGE_CHANGED)
    return campaign, tuple(notices)


def recorded_campaign(table: Table, lookup: Lookup | None) -> Campaign | None:
    """The journal's campaign of ``table`` (its own id, or the adopted 0.1 one), or None."""
    if lookup is None:
        return None
    if table.campaign_id is not None:
        return lookup(table.campaign_id)
    legacy = _legacy(table, lookup)
    return None if legacy is None else lookup(legacy)


def _legacy(table: Table, lookup: Lookup | None) -> str | None:
    legacy = legacy_campaign_id(table)
    if lookup is None or not has_results(table) or lookup(legacy) is None:
        return None
    return legacy


def has_results(table: Table) -> bool:
    """Whether the sheet's ``SMS status`` column holds any status (results were written)."""
    return any(True for _ in sheet_statuses(table))


def sheet_statuses(table: Table, exclude: Iterable[int] = ()) -> Iterator[str]:
    """The status words already in the sheet's ``SMS status`` column."""
    index = table.column_index(STATUS_COLUMN)
    if index is None:
        return
    skip = set(exclude)
    for row in table.rows:
        if row.number in skip or index >= len(row.values):
            continue
        value = row.values[index]
        if isinstance(value, str) and value.strip():
            yield value.strip().casefold()
