"""The simulator's fake carrier: moves accepted messages through sent -> delivered/failed and
POSTs delivery reports to ``whendelivered`` URLs, retrying as the scenario says.

All of it runs as tasks on the server's event loop; :meth:`Carrier.aclose` cancels them and
closes the HTTP client, so a stopped simulator leaves nothing running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx

from .state import Message, SimState, format_time

__all__ = ["Carrier"]


class Carrier:
    """Status changes and delivery-report callbacks of one simulator instance."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        # One lock per message: its reports leave in the order its status changed (sent
        # before delivered), however long a retried callback takes.
        self._order: dict[str, asyncio.Lock] = {}

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def dispatch(self, message: Message, wait: float) -> None:
        """Start the life of an accepted message; it leaves the queue after ``wait`` seconds."""
        self._spawn(self._life(message, wait))

    async def _life(self, message: Message, wait: float) -> None:
        delivery = self.state.scenario.delivery
        await asyncio.sleep(wait + delivery.sent_after_ms / 1000.0)
        message.status = "sent"
        self._report(message)
        await asyncio.sleep(delivery.delivered_after_ms / 1000.0)
        # Always draw, so the failure sequence depends on the seed alone.
        unlucky = self.state.delivery_rng.random() < delivery.failure_rate
        if unlucky or message.to in delivery.failing_numbers:
            message.status = "failed"
        else:
            message.status = "delivered"
            message.delivered = datetime.now(UTC).replace(tzinfo=None)
        self._report(message)

    def _report(self, message: Message) -> None:
        if message.whendelivered is None:
            return
        data = {"id": message.id, "status": message.status}
        if message.delivered is not None:
            data["delivered"] = format_time(message.delivered)
        if self.state.callback_rng.random() < self.state.scenario.faults.callback_failure:
            self.state.stats.callbacks_lost += 1
            self._log(message.whendelivered, data, 0, "lost")
            return
        lock = self._order.setdefault(message.id, asyncio.Lock())
        self._spawn(self._in_order(lock, message.whendelivered, data))

    async def _in_order(self, lock: asyncio.Lock, url: str, data: dict[str, str]) -> None:
        async with lock:
            await self._callback(url, data)
        if data["status"] in ("delivered", "failed"):  # the last report of this message
            self._order.pop(data["id"], None)

    def _log(self, url: str, data: dict[str, str], attempt: int, outcome: str) -> None:
        entry: dict[str, Any] = {"url": url, "attempt": attempt, "outcome": outcome}
        self.state.callbacks.append(entry | data)

    async def _callback(self, url: str, data: dict[str, str]) -> None:
        delivery = self.state.scenario.delivery
        stats = self.state.stats
        if self._client is None:
            # trust_env=False: a proxy from the environment must not swallow local callbacks.
            self._client = httpx.AsyncClient(trust_env=False)
        for attempt in range(1, delivery.callback_max_tries + 1):
            stats.callbacks_tried += 1
            try:
                response = await self._client.post(
                    url, data=data, timeout=delivery.callback_timeout_ms / 1000.0
                )
                outcome = "ok" if 200 <= response.status_code < 300 else str(response.status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            self._log(url, data, attempt, outcome)
            if outcome == "ok":
                stats.callbacks_succeeded += 1
                return
            stats.callbacks_failed += 1
            if attempt < delivery.callback_max_tries:
                await asyncio.sleep(delivery.callback_retry_ms / 1000.0)
        stats.callbacks_abandoned += 1

    async def aclose(self) -> None:
        """Cancel every pending status change and callback, then close the HTTP client."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
