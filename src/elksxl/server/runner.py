"""Running the backend under uvicorn: ``elksxl serve`` calls :func:`serve`.

Binds 127.0.0.1 unless told otherwise; HTTPS when given a certificate and key (what Excel
needs: add-ins load only from https origins, localhost included).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import uvicorn

from ..config import Settings
from ..errors import ConfigError
from ..simulator.server import bind, run_server
from .app import create_app

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "make_server", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443


def make_server(
    settings: Settings,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    addin_dir: Path | None = None,
    log_level: str = "warning",
) -> uvicorn.Server:
    """A uvicorn server for a fresh backend app; the caller binds it."""
    if (cert is None) != (key is None):
        raise ConfigError("give both --cert and --key (a PEM certificate and its private key)")
    for path, what in ((cert, "certificate"), (key, "key")):
        if path is not None and not path.is_file():
            raise ConfigError(f"the {what} file {path} does not exist")
    config = uvicorn.Config(
        create_app(settings, addin_dir=addin_dir),
        lifespan="on",
        log_level=log_level,
        access_log=log_level in ("debug", "trace"),
        log_config=None,  # leave the process' logging alone
        timeout_graceful_shutdown=5,
        # The app decides whom to believe (ELKSXL_TRUSTED_PROXIES); uvicorn would otherwise
        # take X-Forwarded-For from any local caller as the client address.
        proxy_headers=False,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
    )
    return uvicorn.Server(config)


def serve(
    settings: Settings,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    cert: Path | None = None,
    key: Path | None = None,
    public_url: str | None = None,
    *,
    addin_dir: Path | None = None,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the backend until interrupted (blocking; Ctrl-C or SIGTERM stop it cleanly).

    ``public_url`` (else ``settings.public_url``) is the origin Excel and 46elks reach it at;
    ``on_ready(url)`` is called once it accepts connections, with its local URL.
    """
    if public_url:
        settings = settings.with_changes(public_url=public_url.rstrip("/"))
    server = make_server(settings, cert=cert, key=key, addin_dir=addin_dir, log_level=log_level)
    sock = bind(host, port)
    scheme = "https" if cert else "http"

    def ready(url: str) -> None:
        logging.getLogger("elksxl.server").info("serving on %s", url)
        if on_ready is not None:
            on_ready(scheme + url.removeprefix("http").removesuffix("/a1"))

    try:
        asyncio.run(run_server(server, sock, ready))
    finally:
        sock.close()
