"""How a campaign run, a dry run and a status ended: what every surface reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sending stack loads only when something is sent
    from .sender import SendSummary

__all__ = ["CampaignStatus", "DryRunResult", "Outcome", "SendResult", "outcome_of"]


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
