"""The simulated 46elks API as a Starlette app: ``/a1`` as 46elks answers, ``/__sim`` to look in.

API (HTTP Basic auth against the scenario's accounts; errors are text/plain):

- ``POST /a1/sms`` (also ``/a1/SMS``), form-encoded ``from``, ``to``, ``message`` and optional
  ``dryrun``, ``whendelivered``, ``flashsms``, ``dontlog``; ``GET /a1/sms/POST?...`` is the same
  call with query parameters. 200 JSON with ``id``, ``status`` "created", ``from``, ``to``,
  ``message`` (not with dontlog=message), ``created``, ``direction``, ``parts``, ``cost``; a dry
  run answers ``estimated_cost`` instead of ``cost`` and no ``id``, and stores and charges nothing.
- ``GET /a1/sms/{id}``; ``GET /a1/sms`` history, newest first: ``start`` (created before it,
  exclusive), ``end`` (created at or after it), ``limit`` (default and at most 100), ``to``;
  ``{"data": [...], "next": "<created of the last item>"}``, ``next`` only when more exist.
- ``GET /a1/me``: id, displayname, mobilenumber, email, currency, balance.

Errors: 401 ``API access require proper Basic HTTP authentication. Read documentation or
examples.`` with ``WWW-Authenticate: Basic realm="46elks API"``; 403 for rejected parameters
(``Invalid to number``, ``Invalid from``, ``Missing key message``, ...); 403 ``Not enough
credits`` when the balance cannot pay (the real status and text are unverified: the reference
notes found no primary source); 429 with ``Retry-After`` only when the scenario says
``over_rate: "429"`` (46elks is said to queue instead); 404 ``Not found``.

Inspection, for tests and demos only, with NO authentication (so bind the simulator to
127.0.0.1): ``GET /__sim/messages`` (every accepted, non-dry-run message of every account),
``POST /__sim/balance`` (JSON or form ``username``, ``balance``: sets the balance),
``GET /__sim/stats`` (counters), ``GET /__sim/callbacks`` (every delivery-report attempt).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .carrier import Carrier
from .faults import FaultInjector
from .scenario import Account, Scenario
from .state import HISTORY_LIMIT, SendRequest, SimState, format_time, parse_send, parse_time

__all__ = ["create_app"]

AUTH_FAILED = "API access require proper Basic HTTP authentication. Read documentation or examples."


def _text(status: int, body: str, headers: Mapping[str, str] | None = None) -> Response:
    return PlainTextResponse(body, status_code=status, headers=headers)


class _Api:
    """The route handlers of one simulator instance, sharing its state and carrier."""

    def __init__(self, state: SimState, carrier: Carrier) -> None:
        self.state = state
        self.carrier = carrier

    def _account(self, request: Request) -> Account | Response:
        account = self.state.authenticate(request.headers.get("authorization"))
        if account is None:
            self.state.stats.unauthorized += 1
            return _text(401, AUTH_FAILED, {"WWW-Authenticate": 'Basic realm="46elks API"'})
        return account

    async def send_form(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        return self._send(request, dict(parse_qsl(body, keep_blank_values=True)))

    async def send_query(self, request: Request) -> Response:
        return self._send(request, dict(request.query_params))

    def _send(self, request: Request, params: dict[str, str]) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        state, stats = self.state, self.state.stats
        parsed = parse_send(params)
        if isinstance(parsed, str):
            stats.rejected += 1
            return _text(403, parsed)
        parts, cost = state.quote(parsed)
        if parsed.dryrun:
            stats.dry_runs += 1
            return JSONResponse(_dry_run_body(parsed, parts, cost))
        if state.balances[account.username] < cost:
            stats.not_enough_credits += 1
            return _text(403, "Not enough credits")
        throttle = state.throttles[account.username]
        if state.scenario.over_rate == "429":
            wait = throttle.try_take()
            if wait > 0:
                stats.rate_limited += 1
                return _text(429, "Too Many Requests", {"Retry-After": str(math.ceil(wait))})
        else:
            wait = throttle.reserve()
            if wait > 0:
                stats.queued += 1
        message = state.store(account, parsed, parts, cost)
        self.carrier.dispatch(message, wait)
        return JSONResponse(message.to_api())

    async def get_one(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        message = self.state.by_id.get(request.path_params["sms_id"])
        if message is None or message.account != account.username:
            return _text(404, "Not found")
        return JSONResponse(message.to_api())

    async def history(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        query = request.query_params
        bounds = {key: parse_time(query[key]) if key in query else None for key in ("start", "end")}
        for key, value in bounds.items():
            if key in query and value is None:
                return _text(403, f"Invalid {key}")
        try:
            limit = int(query.get("limit", HISTORY_LIMIT))
        except ValueError:
            return _text(403, "Invalid limit")
        if limit < 1:
            return _text(403, "Invalid limit")
        page, more = self.state.history(
            account.username,
            start=bounds["start"],
            end=bounds["end"],
            to=query.get("to") or None,
            limit=min(limit, HISTORY_LIMIT),
        )
        body: dict[str, Any] = {"data": [message.to_api() for message in page]}
        if more is not None:
            body["next"] = format_time(more)
        return JSONResponse(body)

    async def me(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        return JSONResponse(
            {
                "id": account.id,
                "displayname": account.displayname,
                "mobilenumber": account.mobilenumber,
                "email": account.email,
                "currency": account.currency,
                "balance": self.state.balances[account.username],
            }
        )

    async def sim_messages(self, request: Request) -> Response:
        return JSONResponse([message.to_inspection() for message in self.state.messages])

    async def sim_stats(self, request: Request) -> Response:
        return JSONResponse(self.state.stats.as_dict() | {"balances": dict(self.state.balances)})

    async def sim_callbacks(self, request: Request) -> Response:
        return JSONResponse(self.state.callbacks)

    async def sim_balance(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", errors="replace")
        try:
            data = json.loads(raw) if raw.lstrip().startswith("{") else dict(parse_qsl(raw))
            username, balance = str(data["username"]), int(data["balance"])
        except (ValueError, KeyError, TypeError):
            return _text(400, 'Expected {"username": ..., "balance": <integer>}')
        if username not in self.state.balances:
            return _text(404, "Not found")
        self.state.balances[username] = balance
        return JSONResponse({"username": username, "balance": balance})


def _dry_run_body(request: SendRequest, parts: int, cost: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "created",
        "direction": "outgoing",
        "from": request.sender,
        "to": request.to,
        "message": request.message,
        "parts": parts,
        "estimated_cost": cost,
    }
    if request.dontlog:
        del body["message"]
    return body


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _text(status, "Not found" if status == 404 else "Method not allowed")


def _routes(api: _Api) -> list[Route]:
    routes: list[Route] = []
    for sms in ("sms", "SMS"):
        routes += [
            Route(f"/a1/{sms}", api.send_form, methods=["POST"]),
            Route(f"/a1/{sms}", api.history, methods=["GET"]),
            Route(f"/a1/{sms}/POST", api.send_query, methods=["GET"]),
            Route(f"/a1/{sms}/{{sms_id}}", api.get_one, methods=["GET"]),
        ]
    for me in ("me", "Me"):
        routes.append(Route(f"/a1/{me}", api.me, methods=["GET"]))
    return [
        *routes,
        Route("/__sim/messages", api.sim_messages, methods=["GET"]),
        Route("/__sim/stats", api.sim_stats, methods=["GET"]),
        Route("/__sim/callbacks", api.sim_callbacks, methods=["GET"]),
        Route("/__sim/balance", api.sim_balance, methods=["POST"]),
    ]


def create_app(scenario: Scenario | None = None) -> Starlette:
    """A fresh simulator (its own balances, messages and seeded faults) for ``scenario``.

    ``app.state.sim`` is its :class:`SimState`, for in-process tests. Run it with
    :func:`elksxl.simulator.serve` (or ``running_simulator``) so connection drops are real.
    """
    state = SimState(scenario or Scenario.default())
    carrier = Carrier(state)
    api = _Api(state, carrier)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await carrier.aclose()

    app = Starlette(
        routes=_routes(api),
        middleware=[Middleware(FaultInjector, state=state)],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=lifespan,
    )
    app.state.sim = state
    app.state.carrier = carrier
    return app
