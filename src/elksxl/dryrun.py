"""Pricing a campaign with 46elks itself (``dryrun=yes``): nothing is sent, nothing journalled.

Follows the sender's retry rules (DESIGN 5.3) so that a dry run is as robust as a send: a 429
pauses the shared limiter for ``Retry-After`` and tries again; a request that never reached
46elks, a 5xx or a lost answer is tried again after a backoff (a dry run sends nothing, so a
retry cannot double anything); a refusal is that message's answer; out of credits or a
failed login ends the dry run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

from .client import ElksClient, Sms
from .errors import (
    NotReachedError,
    RateLimitedError,
    RejectedError,
    StopCampaignError,
    UnknownOutcomeError,
)
from .plan import Message
from .ratelimit import TokenBucket, concurrency_for
from .sender import SendOptions

__all__ = ["price_messages"]

_RETRIES = SendOptions(sender="elksxl")  # the sender's retry limits and backoff


async def price_messages(
    client: ElksClient,
    messages: Sequence[Message],
    sender: str,
    rate_per_minute: float,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int, tuple[tuple[int, str], ...]]:
    """Parts and cost 46elks reports for ``messages``, and (row, reason) of those it refuses."""
    limiter = TokenBucket(rate_per_minute)
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)
    parts = cost = done = 0
    rejected: list[tuple[int, str]] = []

    async def worker() -> None:
        nonlocal parts, cost, done
        while not queue.empty():
            message = queue.get_nowait()
            try:
                sms = await _price(client, limiter, message, sender)
            except RejectedError as exc:
                rejected.append((message.row, exc.body or str(exc)))
            else:
                parts += sms.parts or message.parts
                cost += sms.estimated_cost or 0
            done += 1
            if on_progress:
                on_progress(done, len(messages))

    workers = max(1, min(concurrency_for(rate_per_minute, 1.0), 16, len(messages)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    return parts, cost, tuple(sorted(rejected))


async def _price(client: ElksClient, limiter: TokenBucket, message: Message, sender: str) -> Sms:
    """One dry-run request, retried by the sender's rules; raises the last error on giving up."""
    attempts = limited = 0
    while True:
        await limiter.acquire()
        try:
            return await client.dry_run(to=message.to, message=message.text, sender=sender)
        except (RejectedError, StopCampaignError):
            raise
        except RateLimitedError as exc:
            limited += 1
            limiter.pause(exc.retry_after)
            if limited >= _RETRIES.max_rate_limited:
                raise
        except (NotReachedError, UnknownOutcomeError):
            attempts += 1
            if attempts >= _RETRIES.max_attempts:
                raise
            ceiling = min(_RETRIES.max_backoff, _RETRIES.backoff * 2 ** (attempts - 1))
            await asyncio.sleep(random.uniform(ceiling / 2, ceiling))
