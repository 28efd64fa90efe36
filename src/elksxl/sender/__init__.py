"""The async sending core: a campaign's planned messages, rate-limited and concurrent, journalled
before and after every request, retried or reconciled against the 46elks history (DESIGN 5.3).

How each outcome of one request is handled:

- accepted -> ``sent`` with id, parts and cost;
- refused (4xx) -> ``rejected`` with the reason; the campaign goes on;
- 429 -> the limiter pauses for ``Retry-After`` (the whole campaign slows down), then again;
- never reached (refused, DNS) -> retried with backoff; after ``max_attempts`` it is ``not_sent``;
- 5xx or lost answer -> ``unknown``, then looked up in the history: found -> ``sent``; provably
  absent -> sent again (a new attempt); undecidable (``dontlog``) -> stays ``unknown``;
- out of credits / authentication -> the campaign stops: requests in flight finish and are
  recorded, every message not sent becomes ``not_sent`` with the reason; a resume sends those.

A message is never sent a second time unless the history shows the earlier attempt is not there.

The package, by responsibility:

- :mod:`.run`: :class:`Sender` and the phases of one run (reconcile leftovers, give back
  ``not_sent``, send planned, finish stopped);
- :mod:`.retries`: one message's requests, what each failure leads to, backoff;
- :mod:`.reconcile`: looking a message of unknown outcome up in the 46elks history;
- :mod:`.ledger`: journal and in-memory tally moved together; claimed SMS ids;
- :mod:`.writer`: the journal writes, group-committed on a dedicated thread;
- :mod:`.halt`: cancel and stop; :mod:`.progress`: :class:`Progress` events;
- :mod:`.options`: :class:`SendOptions`, :class:`Progress`, :class:`SendSummary`.
"""

from __future__ import annotations

from .options import (
    AUTHENTICATION_REASON,
    OUT_OF_CREDITS_REASON,
    Progress,
    SendOptions,
    SendSummary,
)
from .run import Sender

__all__ = [
    "AUTHENTICATION_REASON",
    "OUT_OF_CREDITS_REASON",
    "Progress",
    "SendOptions",
    "SendSummary",
    "Sender",
]
