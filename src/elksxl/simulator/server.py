"""Running the simulator under uvicorn, with a protocol that can really drop a connection.

uvicorn's h11 protocol is pinned (not "auto"), and subclassed to hand the app a ``close``
callable under ``scope["extensions"]["elksxl.drop"]``: closing the transport before any byte of
the answer is written is what a client sees as a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ConfigError
from .app import create_app
from .faults import DROP_EXTENSION
from .scenario import Scenario

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DroppingH11Protocol",
    "base_url",
    "bind",
    "make_server",
    "run_server",
    "serve",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8046


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a way for the app to close its connection without answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = {"close": self._drop}
            await inner(scope, receive, send)

        self.app = app

    def _drop(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def make_server(scenario: Scenario, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for a fresh simulator app; the caller picks how to bind it."""
    config = uvicorn.Config(
        create_app(scenario),
        http=DroppingH11Protocol,
        lifespan="on",
        log_level=log_level,
        access_log=log_level in ("debug", "trace"),
        # Leave the process' logging alone: tests and the CLI configure their own.
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (port 0: a free one, see ``getsockname``).

    Raises ConfigError, saying what to do, when the address is taken or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every answer waits ~40 ms for Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another simulator or server?): "
                "stop it, or pass --port with another number"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def run_server(
    server: uvicorn.Server,
    sock: socket.socket,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve on ``sock`` until the server is told to exit; call ``on_ready(base_url)`` once
    it accepts connections (``base_url`` is ``http://HOST:PORT/a1``)."""

    async def announce() -> None:
        # uvicorn offers no event for "started", only the flag.
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if on_ready is not None:
            on_ready(base_url(sock))

    waiter = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter


def base_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/a1`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/a1"


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    scenario: Scenario | None = None,
    *,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the simulator until interrupted (blocking; Ctrl-C or SIGTERM stop it cleanly).

    Binds 127.0.0.1 by default: the ``/__sim`` inspection endpoints have no authentication,
    so keep it on loopback. ``port`` 0 picks a free port; ``on_ready(base_url)`` is called
    once it accepts connections, with the URL to use as ``ELKS_API_URL``.
    """
    server = make_server(scenario or Scenario.default(), log_level=log_level)
    sock = bind(host, port)
    try:
        asyncio.run(run_server(server, sock, on_ready))
    finally:
        sock.close()
