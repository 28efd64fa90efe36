"""When a run stops taking new messages: on cancel, or on a stop (out of credits,
authentication), whose reason it keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from ..errors import StopCampaignError

__all__ = ["Halt"]


class Halt:
    """The halt signal of one run. Requests in flight finish; only waits are cut short."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopped: StopCampaignError | None = None  # the first stop, when there was one

    def is_set(self) -> bool:
        return self._event.is_set()

    def stop(self, exc: StopCampaignError) -> None:
        """Nothing more can be sent: keep the first reason, halt."""
        if self.stopped is None:
            self.stopped = exc
        self._event.set()

    async def follow(self, cancel: asyncio.Event | None) -> None:
        """Halt when ``cancel`` is set (run as a task for the length of the run)."""
        if cancel is not None:
            await cancel.wait()
            self._event.set()

    async def unless_halted(self, waiting: Awaitable[None]) -> bool:
        """Await ``waiting`` unless the run halts first; True when it completed."""
        task = asyncio.ensure_future(waiting)
        if not self._event.is_set():
            halted = asyncio.ensure_future(self._event.wait())
            await asyncio.wait({task, halted}, return_when=asyncio.FIRST_COMPLETED)
            halted.cancel()
        if task.done():
            task.result()
            return not self._event.is_set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
