"""Test helpers: the backend under uvicorn on 127.0.0.1 in a background thread.

``running_backend`` is what the server tests and the add-in's browser tests use::

    with running_simulator() as sim, running_backend(sim.settings(journal_path=...)) as backend:
        httpx.get(backend.base_url + "/api/account", headers=backend.headers)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Secret, Settings
from ..simulator.testing import serving_in_thread
from .runner import make_server

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BackendHandle", "running_backend"]


@dataclass(frozen=True)
class BackendHandle:
    """A running backend: where it is, the token to call it with, and a way to stop it."""

    base_url: str  # "http://127.0.0.1:PORT" (https with cert and key)
    token: str
    settings: Settings
    stop: Callable[[], None] = field(repr=False)  # idempotent: the port refuses afterwards

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header every /api call needs."""
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def running_backend(
    settings: Settings,
    *,
    addin_dir: Path | None = None,
    port: int = 0,
    cert: Path | None = None,
    key: Path | None = None,
    **changes: Any,
) -> Iterator[BackendHandle]:
    """The backend app under uvicorn on 127.0.0.1:port (0: a free port), until the block ends.

    Without a token in ``settings`` a random one is made (``handle.token``); ``changes``
    replace settings fields (e.g. ``public_url``, ``callback_allow``).
    """
    if not settings.token:
        settings = settings.with_changes(token=Secret(secrets.token_urlsafe(24)))
    settings = settings.with_changes(**changes)
    server = make_server(settings, addin_dir=addin_dir, cert=cert, key=key)
    with serving_in_thread(server, port) as running:
        url = running.root_url
        if cert is not None:
            url = "https" + url.removeprefix("http")
        yield BackendHandle(url, settings.token.reveal(), settings, running.stop)
