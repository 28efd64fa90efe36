"""Seeded fault injection for the simulator: latency, 5xx answers and real connection drops.

A drop is a closed TCP connection, so an HTTP client sees a transport error (httpx:
``RemoteProtocolError``, or ``ReadError`` if unread request bytes make the kernel send a
reset), never a status code. The ASGI app cannot close a socket by itself:
the server must offer a way. :mod:`elksxl.simulator.server` runs uvicorn with a protocol that
puts a ``close`` callable under ``scope["extensions"]["elksxl.drop"]``. In process (for example
``httpx.ASGITransport``) there is no socket, so a drop raises ``httpx.RemoteProtocolError`` from
the app, which that transport hands to the client as the same transport error. Under any other
ASGI server a drop shows up as that server's 500 answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .scenario import Faults
from .state import SimState

__all__ = ["DROP_EXTENSION", "FaultDecision", "FaultInjector", "decide", "drop_connection"]

DROP_EXTENSION = "elksxl.drop"

Action = Literal["none", "5xx", "drop_before", "drop_after"]
_5XX = (500, 502, 503)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request: a delay, then maybe a fault."""

    delay: float
    action: Action
    status: int


def decide(faults: Faults, rng: random.Random) -> FaultDecision:
    """Draw the fate of one request. Always four draws, so the sequence depends only on the seed."""
    latency = faults.latency
    base_ms = rng.uniform(latency.min_ms, latency.max_ms)
    spike = rng.random() < latency.spike_rate
    roll = rng.random()
    status = rng.choice(_5XX)
    action: Action = "none"
    if roll < faults.error_5xx:
        action = "5xx"
    elif roll < faults.error_5xx + faults.drop_before:
        action = "drop_before"
    elif roll < faults.error_5xx + faults.drop_before + faults.drop_after:
        action = "drop_after"
    delay_ms = base_ms + (latency.spike_ms if spike else 0.0)
    return FaultDecision(delay_ms / 1000.0, action, status)


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's connection without an answer (see the module docstring)."""
    extension = scope.get("extensions", {}).get(DROP_EXTENSION)
    if extension is None:
        raise httpx.RemoteProtocolError("simulated connection drop")
    close = cast(Callable[[], None], extension["close"])
    close()
    # Wait until the server has seen the connection go, so it does not try to answer with a 500.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            while (await receive())["type"] != "http.disconnect":
                pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the already-read body, then waits on the real one."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _swallow(message: Message) -> None:
    """A ``send`` that throws the answer away (the connection is about to be dropped)."""


class FaultInjector:
    """ASGI middleware that counts API requests and applies the scenario's seeded faults."""

    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    def _targeted(self, scope: Scope) -> bool:
        path = cast(str, scope["path"]).rstrip("/").lower()
        if self.state.scenario.faults.targets == "all":
            return True
        return (scope["method"], path) in (("POST", "/a1/sms"), ("GET", "/a1/sms/post"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not cast(str, scope["path"]).startswith("/a1"):
            await self.app(scope, receive, send)
            return
        stats = self.state.stats
        stats.requests += 1
        if not self._targeted(scope):
            await self.app(scope, receive, send)
            return
        decision = decide(self.state.scenario.faults, self.state.fault_rng)
        # Read the request first: a client that gives up during the delay must not stop the
        # processing, as on a real server (the classic "timed out, but it was sent" case).
        body = await _read_body(receive)
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.action == "5xx":
            stats.errors_5xx += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": decision.status,
                    "headers": [(b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
        elif decision.action == "drop_before":
            stats.drops_before += 1
            await drop_connection(scope, receive)
        elif decision.action == "drop_after":
            stats.drops_after += 1
            await self.app(scope, _replay(body, receive), _swallow)
            await drop_connection(scope, receive)
        else:
            await self.app(scope, _replay(body, receive), send)
