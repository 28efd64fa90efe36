"""The async 46elks HTTP client: send, dry run, get, history and me over one httpx client.

It owns the wire format (form-encoded requests, JSON answers, 1/10000 money units, naive-UTC
timestamps), the failover between configured base URLs, and the one translation of HTTP statuses
and httpx exceptions into :mod:`elksxl.errors`. It never retries anything except failing over
when a URL provably was not reached; retries are the sender's job (DESIGN 5.3, STYLE 9).

How transport failures are classified (the sender relies on this to avoid double sends):

- ``NotReachedError`` only when no byte of the HTTP request can have left this process:
  ``ConnectError`` (refused, unreachable, DNS failure, TLS handshake failure; httpcore maps
  ``OSError`` during connect to it), ``ConnectTimeout``, ``PoolTimeout`` (no connection was
  ever obtained), ``ProxyError`` (the CONNECT tunnel failed, so the request was never
  forwarded) and ``UnsupportedProtocol``.
- ``ConnectionLostError`` for everything else, in particular ``ReadTimeout``, ``ReadError`` and
  ``RemoteProtocolError`` (the request was written, the answer was lost) and also
  ``WriteTimeout`` / ``WriteError``: asyncio transports buffer writes in user space and flush
  the buffer on close, so a write that "failed" can still deliver the whole request afterwards.
  A wrong "not reached" is a double-sent SMS, a wrong "lost" costs one history lookup.

Failover: calls start at the URL that last gave an HTTP answer (any status), then try the
others in configured order, wrapping around. Sticking to the last good URL means a dead primary
costs one failed connect, not one per message.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import quote

import httpx

from . import __version__
from .config import Settings
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    ConnectionLostError,
    NotReachedError,
    OutOfCreditsError,
    RateLimitedError,
    RejectedError,
    ServerError,
    TransportError,
)

__all__ = ["CONNECT_TIMEOUT", "DEFAULT_RETRY_AFTER", "Account", "ElksClient", "Sms"]

CONNECT_TIMEOUT: Final = 5.0
DEFAULT_RETRY_AFTER: Final = 1.0  # seconds to wait after a 429 without a usable Retry-After
_BODY_LIMIT: Final = 500  # characters of an error body kept for people and for the workbook
_MASK: Final = "**********"
_MIN_REDACT: Final = 4  # shorter secrets would mangle ordinary words if masked everywhere
_CREDIT_WORDS: Final = re.compile(r"\bcredits?\b|\bbalance\b|insufficient funds", re.IGNORECASE)
_NOT_REACHED: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


@dataclass(frozen=True, slots=True)
class Sms:
    """One SMS as 46elks reports it. Money in 1/10000 of the account currency."""

    id: str | None
    status: str
    sender: str
    to: str
    message: str | None
    created: datetime | None
    delivered: datetime | None
    parts: int | None
    cost: int | None
    estimated_cost: int | None
    direction: str


@dataclass(frozen=True, slots=True)
class Account:
    """The 46elks account behind the credentials. ``balance`` in 1/10000 of ``currency``."""

    id: str
    name: str
    currency: str
    balance: int
    mobilenumber: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class _Call:
    """What a request is, for routing and for the words of its error messages."""

    method: str
    path: str
    what: str  # "the message", "the account request": subject of "46elks refused ..."
    sends: bool = False  # True when a lost answer leaves a real SMS in an unknown state
    form: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None


class ElksClient:
    """The 46elks API. Use as ``async with ElksClient(settings) as client: ...``."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._username = settings.username
        self._secrets = _secret_forms(settings.username, settings.password.reveal())
        self._urls = tuple(_check_url(url) for url in settings.api_urls)
        if not self._urls:
            raise ConfigError("no 46elks API URL configured (ELKS_API_URL)")
        self._timeout = settings.timeout
        self._preferred = 0
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(settings.username, settings.password.reveal()),
            timeout=httpx.Timeout(
                connect=CONNECT_TIMEOUT,
                read=settings.timeout,
                write=settings.timeout,
                pool=settings.timeout,
            ),
            headers={"User-Agent": f"elksxl/{__version__}", "Accept": "application/json"},
            follow_redirects=False,  # a redirected POST could be re-sent elsewhere
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ElksClient(username={self._username!r}, api_urls={self._urls!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self,
        *,
        to: str,
        message: str,
        sender: str,
        whendelivered: str | None = None,
        flash: bool = False,
        dontlog: bool = False,
    ) -> Sms:
        """Send one SMS. Raises an ``elksxl.errors`` error for anything but an accepted send."""
        form = {"from": sender, "to": to, "message": message}
        if whendelivered:
            form["whendelivered"] = whendelivered
        if flash:
            form["flashsms"] = "yes"
        if dontlog:
            form["dontlog"] = "message"
        call = _Call("POST", "/sms", "the message", sends=True, form=form)
        data = _require(await self._json(call), ("id",), call)
        return _parse_sms(data, default_status="created")

    async def dry_run(self, *, to: str, message: str, sender: str) -> Sms:
        """Validate one SMS and price it without sending: ``estimated_cost`` and ``parts``."""
        form = {"from": sender, "to": to, "message": message, "dryrun": "yes"}
        call = _Call("POST", "/sms", "the dry run", form=form)
        data = _require(await self._json(call), ("estimated_cost",), call)
        return _parse_sms(data, default_status="created")

    async def get(self, sms_id: str) -> Sms:
        """One SMS by its id, with its current status."""
        call = _Call("GET", f"/sms/{quote(sms_id, safe='')}", f"the lookup of SMS {sms_id!r}")
        data = _require(await self._json(call), ("id",), call)
        return _parse_sms(data, default_status="unknown")

    async def history(
        self,
        *,
        to: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> AsyncIterator[Sms]:
        """SMS newest first, optionally only to ``to`` and created between ``end`` and ``start``.

        Naive datetimes are taken as UTC. Pages are fetched lazily, following ``next``.
        """
        params: dict[str, str] = {}
        if to is not None:
            params["to"] = to
        if end is not None:
            params["end"] = _format_timestamp(end)
        if start is not None:
            params["start"] = _format_timestamp(start)
        previous_ids: set[str] = set()
        while True:
            page = await self._json(_Call("GET", "/sms", "the history request", params=params))
            items, next_start = _parse_page(page)
            # A page boundary may repeat the last SMS if 46elks treats `start` as inclusive.
            for sms in items:
                if sms.id is None or sms.id not in previous_ids:
                    yield sms
            if next_start is None:
                return
            if next_start == params.get("start"):
                raise _unexpected(
                    None, "the history request", "paging did not advance", sends=False
                )
            previous_ids = {sms.id for sms in items if sms.id is not None}
            params = {**params, "start": next_start}

    async def me(self) -> Account:
        """The account: name, currency and balance (1/10000 of the currency)."""
        call = _Call("GET", "/me", "the account request")
        return _parse_account(_require(await self._json(call), ("id", "currency", "balance"), call))

    async def _json(self, call: _Call) -> dict[str, Any]:
        """Do ``call`` and return its JSON object, or raise the matching error."""
        response = await self._request(call)
        if not response.is_success:
            raise self._status_error(response, call)
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _unexpected(
                response.status_code, call.what, "not JSON", sends=call.sends
            ) from exc
        if not isinstance(data, dict):
            raise _unexpected(
                response.status_code, call.what, "not a JSON object", sends=call.sends
            )
        return data

    async def _request(self, call: _Call) -> httpx.Response:
        """The one seam to the network: fail over on NotReached, translate httpx errors."""
        count = len(self._urls)
        order = [(self._preferred + step) % count for step in range(count)]
        last: NotReachedError | None = None
        for index in order:
            try:
                response = await self._http.request(
                    call.method,
                    self._urls[index] + call.path,
                    data=call.form,
                    params=call.params,
                )
            except httpx.HTTPError as exc:
                error = self._translate(exc, self._urls[index], call)
                if not isinstance(error, NotReachedError):
                    raise error from exc
                last = error
                continue
            self._preferred = index
            return response
        assert last is not None  # the loop ran at least once and only NotReached continues
        tried = f"{count} API URL" + ("s" if count != 1 else "")
        raise NotReachedError(
            self._redact(f"could not reach 46elks (tried {tried}): {last}"),
            url=last.url,
        ) from last.__cause__

    def _translate(self, exc: httpx.HTTPError, url: str, call: _Call) -> ApiError | TransportError:
        """The one place where httpx exceptions become elksxl errors."""
        text = self._redact(str(exc))
        detail = f" ({text})" if text else ""
        if isinstance(exc, _NOT_REACHED):
            return NotReachedError(f"{url}: {_describe(exc, self._timeout)}{detail}", url=url)
        if isinstance(exc, httpx.DecodingError):
            why = f"an answer that could not be decoded{detail}"
            return _unexpected(None, call.what, why, sends=call.sends)
        if call.sends:
            outcome = (
                "the message may or may not have been sent: check the history before resending"
            )
        else:
            outcome = "nothing was changed"
        happened = _describe(exc, self._timeout)
        return ConnectionLostError(f"46elks at {url} {happened}{detail}; {outcome}", url=url)

    def _status_error(self, response: httpx.Response, call: _Call) -> ApiError:
        """Map a non-2xx answer to the error that says what the caller should do."""
        status = response.status_code
        # Redact before trimming, so a cut can never leave half a secret behind.
        body = _trim(self._redact(response.text))
        said = _human_body(body)
        if status == 401:
            return AuthenticationError(
                f"46elks refused the API username {self._username!r} or its password "
                "(HTTP 401): check ELKS_USERNAME and ELKS_PASSWORD",
                status_code=status,
                body=body,
            )
        if status == 429:
            return _rate_limited(response, body)
        if 400 <= status < 500 and (status == 402 or _CREDIT_WORDS.search(body)):
            return OutOfCreditsError(
                f"the 46elks account cannot pay for {call.what}: {said} (HTTP {status}); "
                "top up the account, then resume",
                status_code=status,
                body=body,
            )
        if 400 <= status < 500:
            message = f"46elks refused {call.what}: {said} (HTTP {status})"
            return RejectedError(message, status_code=status, body=body)
        if status >= 500:
            outcome = "; it may or may not have been sent" if call.sends else ""
            message = f"46elks had a server error with {call.what}: {said} (HTTP {status}){outcome}"
            return ServerError(message, status_code=status, body=body)
        return _unexpected(status, call.what, f"HTTP {status} {said}".strip(), sends=call.sends)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text


def _secret_forms(username: str, password: str) -> tuple[str, ...]:
    """The password and the Basic header token, as they could appear in foreign text."""
    if len(password) < _MIN_REDACT:
        return ()
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return (token, password)


def _check_url(url: str) -> str:
    """A usable base URL without a trailing slash; credentials in URLs are refused."""
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL:
        # from None: httpx's message quotes the URL, which may hold credentials
        raise ConfigError("an ELKS_API_URL entry is not a valid URL") from None
    if parsed.userinfo:
        shown = str(parsed.copy_with(username=None, password=None))
        raise ConfigError(
            f"ELKS_API_URL {shown} contains credentials: put them in ELKS_USERNAME and "
            "ELKS_PASSWORD instead, so they never end up in logs"
        )
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"ELKS_API_URL {url.strip()!r} must be an http:// or https:// URL")
    return str(parsed).rstrip("/")


def _rate_limited(response: httpx.Response, body: str) -> RateLimitedError:
    wait = _retry_after(response.headers.get("Retry-After"))
    return RateLimitedError(
        f"46elks is limiting the request rate (HTTP 429): retry after {wait:.1f} s",
        status_code=response.status_code,
        body=body,
        retry_after=wait,
    )


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    """What went wrong, in words: after "URL:" when not reached, after "46elks at URL" when lost."""
    words = {
        httpx.ConnectTimeout: f"connection timed out after {CONNECT_TIMEOUT:g} s",
        httpx.ConnectError: "could not connect",
        httpx.PoolTimeout: f"no free connection within {timeout:g} s",
        httpx.ProxyError: "the proxy did not open a tunnel",
        httpx.UnsupportedProtocol: "unsupported protocol",
        httpx.ReadTimeout: f"did not answer within {timeout:g} s",
        httpx.WriteTimeout: f"did not take the whole request within {timeout:g} s",
        httpx.RemoteProtocolError: "dropped the connection without a proper answer",
        httpx.ReadError: "broke the connection while answering",
        httpx.WriteError: "broke the connection while the request was being sent",
    }
    for kind, text in words.items():
        if isinstance(exc, kind):
            return text
    return f"failed ({type(exc).__name__})"


def _unexpected(status: int | None, what: str, why: str, *, sends: bool) -> ServerError:
    """A 2xx (or odd) answer we cannot read: for a send, the outcome is unknown."""
    outcome = "; the message may or may not have been sent" if sends else ""
    code = f" (HTTP {status})" if status is not None else ""
    return ServerError(
        f"46elks gave an unexpected answer to {what}{code}: {why}{outcome}",
        status_code=status,
        body="",
    )


def _require(data: dict[str, Any], keys: tuple[str, ...], call: _Call) -> dict[str, Any]:
    """``data`` if every key has a value; a 2xx without them leaves the outcome unknown."""
    missing = [key for key in keys if data.get(key) is None]
    if missing:
        why = f"no {', '.join(repr(key) for key in missing)} in it"
        raise _unexpected(None, call.what, why, sends=call.sends)
    return data


def _trim(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _BODY_LIMIT else text[: _BODY_LIMIT - 1] + "…"


def _human_body(body: str) -> str:
    """The sentence in an error body: plain text as is, or the message of a JSON error."""
    if not body:
        return "no explanation given"
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return body


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (seconds or HTTP date); a default when unusable."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return DEFAULT_RETRY_AFTER
    return max(0.0, seconds)


def _format_timestamp(moment: datetime) -> str:
    """46elks' timestamp form: naive UTC with microseconds, ``2016-10-11T13:36:13.081000``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _parse_timestamp(value: object) -> datetime | None:
    """A 46elks timestamp (naive UTC) as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _int(value: object) -> int | None:
    """Integers as 46elks sends them; tolerant of "3500" and 3500.0, never of booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parse_sms(data: Mapping[str, Any], *, default_status: str) -> Sms:
    return Sms(
        id=_str(data.get("id")),
        status=_str(data.get("status")) or default_status,
        sender=_str(data.get("from")) or "",
        to=_str(data.get("to")) or "",
        message=_str(data.get("message")),
        created=_parse_timestamp(data.get("created")),
        delivered=_parse_timestamp(data.get("delivered")),
        parts=_int(data.get("parts")),
        cost=_int(data.get("cost")),
        estimated_cost=_int(data.get("estimated_cost")),
        direction=_str(data.get("direction")) or "",
    )


def _parse_page(page: Mapping[str, Any]) -> tuple[list[Sms], str | None]:
    data = page.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise _unexpected(None, "the history request", "no list of messages in it", sends=False)
    next_start = page.get("next")
    if next_start is not None and not isinstance(next_start, str):
        raise _unexpected(None, "the history request", "unreadable 'next'", sends=False)
    return [_parse_sms(item, default_status="unknown") for item in data], next_start or None


def _parse_account(data: Mapping[str, Any]) -> Account:
    balance = data.get("balance")
    if isinstance(balance, float) and not balance.is_integer():
        balance = round(balance)
    units = _int(balance)
    if units is None:
        raise _unexpected(None, "the account request", "unreadable balance", sends=False)
    return Account(
        id=str(data["id"]),
        name=_str(data.get("displayname")) or _str(data.get("name")) or "",
        currency=str(data["currency"]),
        balance=units,
        mobilenumber=_str(data.get("mobilenumber")),
        email=_str(data.get("email")),
    )
