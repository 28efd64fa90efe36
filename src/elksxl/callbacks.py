"""Where 46elks sends delivery reports: ``{ELKSXL_PUBLIC_URL}/elks/delivery/{secret}``.

The secret is ``ELKSXL_CALLBACK_SECRET``, else one made once and kept beside the journal
(mode 0600), so ``elksxl serve`` and ``elksxl send`` sharing a journal give 46elks the same
address, and a team server receives the reports of headless campaigns too. It is never the
add-in's access token: the callback address is given to 46elks, the token only to people.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from .config import Settings
from .errors import ConfigError

__all__ = ["callback_secret", "delivery_url"]


def callback_secret(settings: Settings) -> str:
    """``ELKSXL_CALLBACK_SECRET``, else the secret kept beside the journal (made when absent)."""
    secret = settings.callback_secret.reveal()
    if not secret:
        secret = _stored_secret(settings.journal_path.parent / "callback-secret")
    token = settings.token.reveal()
    if token and hmac.compare_digest(secret.encode(), token.encode()):
        raise ConfigError(
            "ELKSXL_CALLBACK_SECRET must differ from ELKSXL_TOKEN: the callback address is "
            "given to 46elks, the token only to the add-in"
        )
    return secret


def delivery_url(settings: Settings) -> str | None:
    """The ``whendelivered`` URL when a public URL is configured, else None."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/elks/delivery/{callback_secret(settings)}"


def _stored_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret
