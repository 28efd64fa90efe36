"""Asking 46elks what became of sent messages (``GET /a1/sms/{id}``), for campaigns whose
delivery reports cannot reach a webhook.

Lookups go at the account's rate through the client (with its failover) and settle nothing by
themselves: the caller records ``delivered`` and ``failed`` answers in the journal. A lookup
that fails is simply tried again at the next refresh; only a refused login stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from .client import ElksClient
from .errors import ApiError, StopCampaignError, TransportError
from .journal import JournalEntry
from .ratelimit import TokenBucket, concurrency_for

__all__ = ["FINAL_STATUSES", "look_up"]

FINAL_STATUSES = frozenset({"delivered", "failed"})

Record = Callable[[str, str, datetime | None], object]


async def look_up(
    client: ElksClient,
    entries: Sequence[JournalEntry],
    rate_per_minute: float,
    record: Record,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Look up every entry's SMS and ``record(id, status, at)`` final answers; how many."""
    wanted = [e for e in entries if e.elks_id]
    limiter = TokenBucket(rate_per_minute)
    queue: asyncio.Queue[JournalEntry] = asyncio.Queue()
    for entry in wanted:
        queue.put_nowait(entry)
    done = settled = 0

    async def worker() -> None:
        nonlocal done, settled
        while not queue.empty():
            entry = queue.get_nowait()
            await limiter.acquire()
            assert entry.elks_id is not None
            try:
                sms = await client.get(entry.elks_id)
            except StopCampaignError:
                raise
            except (ApiError, TransportError):
                pass  # asked again at the next refresh
            else:
                if sms.status in FINAL_STATUSES:
                    record(entry.elks_id, sms.status, sms.delivered)
                    settled += 1
            done += 1
            if on_progress:
                on_progress(done, len(wanted))

    workers = max(1, min(concurrency_for(rate_per_minute, 1.0), 16, len(wanted)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    return settled
