"""Who may call the backend: the deployment token, the pane's own origin, a body size limit,
security headers, and 46elks' callback addresses.

An open endpoint that sends SMS on someone's bill is not acceptable, so the app refuses to
start without a token, and every ``/api`` call must carry it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import time
from collections.abc import Iterable, Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import callbacks
from ..config import Secret, Settings
from ..errors import ConfigError

__all__ = [
    "MAX_BODY",
    "Guard",
    "Network",
    "callback_secret",
    "caller_address",
    "networks",
    "require_token",
]

MAX_BODY = 8 * 1024 * 1024
_MIN_TOKEN = 16
_OFFICE_FRAMES = (
    "https://*.office.com https://*.office365.com https://*.officeapps.live.com "
    "https://*.sharepoint.com https://*.microsoft.com https://*.live.com"
)
SECURITY_HEADERS = (
    (
        b"content-security-policy",
        (
            "default-src 'self'; script-src 'self' https://appsforoffice.microsoft.com; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            f"object-src 'none'; base-uri 'self'; frame-ancestors 'self' {_OFFICE_FRAMES}"
        ).encode(),
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def require_token(settings: Settings) -> str:
    """The deployment token; ConfigError when there is none (or one too short to be secret)."""
    token = settings.token.reveal()
    if not token:
        raise ConfigError(
            "no access token: set ELKSXL_TOKEN to a long random string (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`); the add-in asks "
            "for it once. Without it anyone who reaches the server could send SMS on your bill"
        )
    if len(token) < _MIN_TOKEN:
        raise ConfigError(f"ELKSXL_TOKEN is too short: use at least {_MIN_TOKEN} random characters")
    return token


def networks(items: Iterable[str], setting: str) -> tuple[Network, ...]:
    """Addresses or networks (IPv4, IPv6) as networks; ConfigError naming a bad one."""
    found = []
    for item in items:
        try:
            found.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{setting}: {item!r} is not an IP address or network (e.g. 176.10.154.199, "
                "10.0.0.0/8, 2001:9b0:2:902::199)"
            ) from None
    return tuple(found)


def _within(address: str, allowed: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in allowed)


def caller_address(peer: str | None, forwarded: str | None, proxies: Sequence[Network]) -> str:
    """The caller's address: the direct peer, unless that is a trusted proxy, in which case
    the nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
    address = peer or ""
    if not forwarded or not _within(address, proxies):
        return address
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        address = hop
        if not _within(hop, proxies):
            break
    return address


def allowed_caller(address: str, allowed: Sequence[Network]) -> bool:
    return _within(address, allowed)


def callback_secret(settings: Settings, token: str) -> str:
    """The webhooks' secret path segment (see :func:`elksxl.callbacks.callback_secret`)."""
    return callbacks.callback_secret(settings.with_changes(token=Secret(token)))


class Guard:
    """ASGI middleware: security headers on every answer; for ``/api``, the token and the
    origin; for every request, the body size limit."""

    def __init__(self, app: ASGIApp, *, token: str, origins: Sequence[str]) -> None:
        self.app = app
        self._token = f"Bearer {token}".encode()
        self._origins = frozenset(o.rstrip("/") for o in origins)
        self._misses = Misses()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, text = refusal
            await _json_error(send_with_headers, status, text)
            return
        await self.app(scope, _limited(receive), send_with_headers)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return (
                413,
                f"the request is larger than {MAX_BODY // (1024 * 1024)} MiB: select fewer rows",
            )
        path: str = scope["path"]
        origin = headers.get("origin")
        if origin is not None and (path.startswith("/api/") or scope["method"] != "GET"):
            own = {self._own_origin(scope, headers), *self._origins}
            if origin.rstrip("/") not in own:
                return 403, "requests from another origin are refused"
        if path.startswith("/api/"):
            caller = (scope.get("client") or ("?", 0))[0]
            if self._misses.blocked(caller):
                return 429, "too many wrong access tokens from this address: wait a minute"
            given = headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._token):
                self._misses.add(caller)
                return 401, "missing or wrong access token: enter it in the add-in's settings"
        return None

    @staticmethod
    def _own_origin(scope: Scope, headers: Headers) -> str:
        return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"


class Misses:
    """Wrong access tokens per caller address: after ``limit`` within ``window`` seconds the
    address is refused until the window has passed, so a token cannot be guessed by trying."""

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[str, list[float]] = {}

    def add(self, caller: str) -> None:
        self._times.setdefault(caller, []).append(time.monotonic())
        if len(self._times) > 10_000:  # a flood of addresses must not grow memory forever
            self._times.clear()

    def blocked(self, caller: str) -> bool:
        recent = [t for t in self._times.get(caller, ()) if time.monotonic() - t < self.window]
        if recent:
            self._times[caller] = recent
        else:
            self._times.pop(caller, None)
        return len(recent) >= self.limit


def _limited(receive: Receive) -> Receive:
    seen = 0

    async def receive_limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise HTTPException(
                    413, f"the request is larger than {MAX_BODY // (1024 * 1024)} MiB"
                )
        return message

    return receive_limited


async def _json_error(send: Send, status: int, text: str) -> None:
    body = json.dumps({"error": text, "where": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
