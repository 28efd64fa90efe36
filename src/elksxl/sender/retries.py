"""One message at a time: its request, journalled before and after, and what each failure
leads to (DESIGN 5.3):

- accepted -> ``sent`` with id, parts and cost;
- refused (4xx) -> ``rejected`` with the reason; the campaign goes on;
- 429 -> the limiter pauses for ``Retry-After`` (the whole campaign slows down), then again;
  after ``max_rate_limited`` such answers it is ``not_sent``;
- never reached (refused, DNS) -> retried with backoff; after ``max_attempts`` it is ``not_sent``;
- 5xx or lost answer -> ``unknown``, then reconciled: found -> ``sent``; provably absent ->
  sent again after backoff (a new attempt); undecidable -> stays ``unknown``;
- out of credits / authentication -> back to ``planned``, and the run halts.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from enum import Enum

from ..client import ElksClient
from ..errors import (
    ApiError,
    ElksxlError,
    NotReachedError,
    RateLimitedError,
    RejectedError,
    StopCampaignError,
    UnknownOutcomeError,
)
from ..journal import JournalEntry, State
from ..ratelimit import Clock, TokenBucket
from .halt import Halt
from .ledger import Ledger
from .options import SendOptions
from .reconcile import Reconciler, Verdict

__all__ = ["Backoff", "Dispatcher"]


class Backoff:
    """Exponential backoff with jitter, so workers do not retry in lockstep."""

    def __init__(self, options: SendOptions) -> None:
        self.o = options
        self.random = random.Random()

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        ceiling = min(self.o.max_backoff, self.o.backoff * 2 ** (attempt - 1))
        return self.random.uniform(ceiling / 2, ceiling)


class _Next(Enum):
    DONE = "done"
    AGAIN = "again"


@dataclass(slots=True)
class _Tries:
    """One message's attempts in this run."""

    attempts: int = 0  # requests that may have counted (not reached, unknown outcome)
    limited: int = 0  # 429 answers


class Dispatcher:
    """Takes messages from a shared queue and sends each until it is settled or must wait."""

    def __init__(
        self,
        client: ElksClient,
        limiter: TokenBucket,
        options: SendOptions,
        ledger: Ledger,
        reconciler: Reconciler,
        halt: Halt,
        clock: Clock,
        backoff: Backoff,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.o = options
        self.ledger = ledger
        self.tally = ledger.tally
        self.reconciler = reconciler
        self.halt = halt
        self.clock = clock
        self.backoff = backoff

    async def work(self, queue: deque[JournalEntry]) -> None:
        """One worker: message after message until the queue is empty or the run halts."""
        while queue and not self.halt.is_set():
            entry = queue.popleft()
            tries = _Tries()
            while await self._attempt(entry, tries) is _Next.AGAIN:
                pass

    async def _attempt(self, entry: JournalEntry, tries: _Tries) -> _Next:
        """One request for ``entry``, recorded before and after; AGAIN when it should be retried."""
        if not await self.halt.unless_halted(self.limiter.acquire()):
            return _Next.DONE  # still planned: a later run sends it
        key = entry.key
        await self.ledger.in_flight(key)
        try:
            sms = await self.client.send(
                to=entry.to,
                message=entry.text,
                sender=self.o.sender,
                whendelivered=self.o.whendelivered,
                flash=self.o.flash,
                dontlog=self.o.dontlog,
            )
        except StopCampaignError as exc:
            # 401 and credit failures mean 46elks did not take the message.
            await self.ledger.mark(key, State.PLANNED)
            self.halt.stop(exc)
            return _Next.DONE
        except RateLimitedError as exc:
            return await self._rate_limited(key, tries, exc)
        except RejectedError as exc:
            await self.ledger.rejected(key, str(exc))
            return _Next.DONE
        except NotReachedError as exc:
            return await self._not_reached(key, tries, exc)
        except (UnknownOutcomeError, ApiError) as exc:
            return await self._unknown_outcome(key, tries, exc)
        await self.ledger.mark_sent(key, sms)
        return _Next.DONE

    async def _rate_limited(self, key: str, tries: _Tries, exc: RateLimitedError) -> _Next:
        # Pausing the shared limiter slows every worker, not only this one.
        self.limiter.pause(exc.retry_after)
        self.tally.rate_limited += 1
        tries.limited += 1
        if tries.limited >= self.o.max_rate_limited:
            await self.ledger.give_up(key, f"{exc}; gave up after {tries.limited} such answers")
            return _Next.DONE
        await self.ledger.mark(key, State.PLANNED)
        return _Next.AGAIN

    async def _not_reached(self, key: str, tries: _Tries, exc: NotReachedError) -> _Next:
        tries.attempts += 1
        if tries.attempts >= self.o.max_attempts:
            await self.ledger.give_up(key, f"{exc}; gave up after {tries.attempts} attempts")
            return _Next.DONE
        await self.ledger.mark(key, State.PLANNED)
        return await self._after_backoff(tries)

    async def _unknown_outcome(self, key: str, tries: _Tries, exc: ElksxlError) -> _Next:
        """The request may have been processed: only the history may allow a resend."""
        tries.attempts += 1
        await self.ledger.mark(key, State.UNKNOWN, str(exc))
        await self.clock.sleep(self.o.reconcile_delay)
        if await self.reconciler.reconcile(key) is not Verdict.ABSENT:
            return _Next.DONE
        if tries.attempts >= self.o.max_attempts:
            await self.ledger.give_up(key, f"{exc}; not sent after {tries.attempts} attempts")
            return _Next.DONE
        await self.ledger.mark(key, State.PLANNED)
        self.tally.resent += 1
        return await self._after_backoff(tries)

    async def _after_backoff(self, tries: _Tries) -> _Next:
        waiting = self.clock.sleep(self.backoff.delay(tries.attempts))
        halted = not await self.halt.unless_halted(waiting)
        return _Next.DONE if halted else _Next.AGAIN
