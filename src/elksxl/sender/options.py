"""What a send is asked to do and what it reports: options, progress events, the summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ..config import validate_sender
from ..errors import ConfigError, StopCampaignError
from ..journal import State

__all__ = [
    "AUTHENTICATION_REASON",
    "OUT_OF_CREDITS_REASON",
    "Progress",
    "SendOptions",
    "SendSummary",
]

OUT_OF_CREDITS_REASON: Final = "out of credits: top up the 46elks account and run again"
AUTHENTICATION_REASON: Final = (
    "authentication failed: check ELKS_USERNAME and ELKS_PASSWORD, then run again"
)


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to send: the API parameters, and the retry and reconciliation rules."""

    sender: str  # the `from`, checked by config.validate_sender
    whendelivered: str | None = None
    flash: bool = False
    dontlog: bool = False
    concurrency: int | None = None  # None: sized from the rate and expected_latency
    max_attempts: int = 5  # per message, for failures that may be retried
    reconcile_window: timedelta = timedelta(minutes=10)
    expected_latency: float = 1.0  # seconds per request, for the default concurrency
    # Seconds 46elks may still take to record a message after its answer was lost (or its
    # process died): the history is trusted to show absence only after this long.
    reconcile_delay: float = 5.0
    backoff: float = 0.5  # first retry wait in seconds; doubles per attempt, with jitter
    max_backoff: float = 30.0
    max_rate_limited: int = 50  # 429 answers one message may get before it is given up
    progress_interval: float = 1.0  # seconds between periodic Progress events

    def __post_init__(self) -> None:
        validate_sender(self.sender)
        if self.max_attempts < 1 or self.max_rate_limited < 1:
            raise ConfigError("max_attempts and max_rate_limited must be at least 1")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {self.concurrency}")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a campaign stands; emitted after every settled message and periodically."""

    total: int
    sent: int  # accepted by 46elks, this run or before (delivered and failed included)
    rejected: int
    unknown: int
    not_sent: int
    remaining: int  # still to send in this run
    cost: int  # 1/10000 of the account currency, whole campaign so far
    rate_per_minute: float  # messages accepted per minute over the last minute
    elapsed: float  # seconds since this run started
    rate_limited: int = 0  # 429 answers in this run

    @property
    def failed(self) -> int:
        """Messages that did not go out: refused by 46elks or given up."""
        return self.rejected + self.not_sent


@dataclass(frozen=True, slots=True)
class SendSummary:
    """How a run ended. ``counts`` covers the whole campaign."""

    counts: Mapping[State, int]
    cost: int
    cancelled: bool
    stopped: StopCampaignError | None  # out of credits or authentication failure
    rate_limited: int = 0  # 429 answers in this run
    resent: int = 0  # messages sent again because the history proved an attempt absent
