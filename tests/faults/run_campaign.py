"""A sending process for the fault tests, and the campaign helpers they share.

    python tests/faults/run_campaign.py JOURNAL CAMPAIGN API_URL --count 300 --first 0

Plans the campaign (idempotently: a resume plans the same keys again, which changes nothing)
and sends it with no rate limit. Prints ``sending`` when the send starts and one ``settled``
line per message, flushed, so a parent can kill it at a chosen moment; exits 0 when done.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from elksxl.client import ElksClient
from elksxl.config import Secret, Settings
from elksxl.journal import Journal, JournalEntry, PlannedMessage
from elksxl.ratelimit import TokenBucket
from elksxl.sender import Sender, SendOptions, SendSummary

SENDER = "Elksxl"


def number(i: int) -> str:
    """A valid Swedish mobile number, distinct for every ``i`` below 9,000,000."""
    return f"+4670{1_000_000 + i}"


def messages(count: int, *, first: int = 0) -> list[PlannedMessage]:
    return [
        PlannedMessage(row=i + 2, to=number(first + i), text=f"Hej {first + i}, din tid är kl 10.")
        for i in range(count)
    ]


def plan(journal: Journal, campaign: str, count: int, *, first: int = 0) -> list[PlannedMessage]:
    planned = messages(count, first=first)
    journal.ensure_campaign(
        campaign, source="faults.xlsx", sheet="Kontakter", sender=SENDER, options={}
    )
    journal.add_planned(campaign, planned)
    return planned


def settings(url: str, *, timeout: float = 5.0) -> Settings:
    return Settings(username="sim", password=Secret("sim"), api_urls=(url,), timeout=timeout)


async def send(
    journal: Journal,
    campaign: str,
    config: Settings,
    options: SendOptions,
    *,
    rate: float = 0,
    on_settled: Callable[[JournalEntry], None] | None = None,
    limiter: TokenBucket | None = None,
) -> SendSummary:
    async with ElksClient(config) as client:
        sender = Sender(
            journal, client, limiter or TokenBucket(rate), options, on_settled=on_settled
        )
        return await sender.run(campaign)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("journal", type=Path)
    parser.add_argument("campaign")
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    options = SendOptions(
        sender=SENDER, concurrency=args.concurrency, reconcile_delay=1.0, backoff=0.05
    )

    def settled(entry: JournalEntry) -> None:
        print("settled", entry.row, entry.state, flush=True)

    with Journal.open(args.journal) as journal:
        plan(journal, args.campaign, args.count, first=args.first)
        print("sending", flush=True)
        summary = asyncio.run(
            send(journal, args.campaign, settings(args.url), options, on_settled=settled)
        )
    print("done", dict(summary.counts), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
