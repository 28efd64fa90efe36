"""What the campaign core hands every surface: the prepared plan before sending, and how a
run, a dry run and a status ended."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .identity import Notice, notice_text
from .plan import Message, Plan, PlanItem, PlanOptions
from .pricing import PriceTable
from .recipients import PhoneColumns
from .table import Table
from .templating import MessageTemplate

if TYPE_CHECKING:  # the sending stack loads only when something is sent
    from .sender import SendSummary

__all__ = [
    "CampaignStatus",
    "DryRunResult",
    "Outcome",
    "Prepared",
    "SendResult",
    "StreamedPlan",
    "outcome_of",
]


@dataclass(frozen=True)
class Prepared:
    """A table planned with a message: what a surface shows before anything is sent."""

    table: Table
    message: str
    template: MessageTemplate
    options: PlanOptions
    prices: PriceTable
    plan: Plan
    campaign_id: str | None  # the campaign this sheet belongs to; None: a new one at send
    notices: tuple[Notice, ...]
    journal_path: Path
    # Rows the journal says may already have reached their recipient (a crash kept their
    # results from the sheet): not sent again, but their results are written.
    recorded: tuple[Message, ...] = ()

    def notice_texts(self) -> list[str]:
        return [notice_text(n, self.journal_path) for n in self.notices]


@dataclass(frozen=True)
class StreamedPlan:
    """A plan produced row by row, for outputs that need not hold the whole sheet."""

    table: Table
    prices: PriceTable
    phone: PhoneColumns
    items: Iterator[PlanItem]


class Outcome(StrEnum):
    COMPLETE = "complete"  # every planned message was accepted by 46elks
    PARTIAL = "partial"  # some rows failed, were not sent or are unknown
    CANCELLED = "cancelled"  # the user stopped it; a resume sends the rest
    STOPPED = "stopped"  # out of credits or authentication: nothing more can go out


@dataclass(frozen=True)
class SendResult:
    campaign_id: str
    outcome: Outcome
    summary: SendSummary
    currency: str | None


@dataclass(frozen=True)
class DryRunResult:
    """What 46elks itself says the campaign would cost (dryrun=yes for every message)."""

    messages: int
    parts: int
    estimated_cost: int
    rejected: tuple[tuple[int, str], ...]  # (row, reason) for messages 46elks would refuse


@dataclass(frozen=True)
class CampaignStatus:
    campaign_id: str
    counts: dict[str, int]  # status word -> rows
    cost: int  # 1/10000 of ``currency``
    currency: str | None


def outcome_of(summary: SendSummary) -> Outcome:
    from .journal import State

    if summary.stopped is not None:
        return Outcome.STOPPED
    if summary.cancelled:
        return Outcome.CANCELLED
    settled = (State.SENT, State.DELIVERED)
    if any(n for state, n in summary.counts.items() if state not in settled):
        return Outcome.PARTIAL
    return Outcome.COMPLETE
