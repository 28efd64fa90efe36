"""The add-in backend as a Starlette app: the pane's files, the API of ADDIN_API.md, and the
46elks delivery-report webhook. Build it with :func:`create_app`.

One error handler turns the error tree into HTTP: bad input 400 (naming the cell), out of
credits 402, a running campaign 409, 46elks unreachable or refusing 502, the journal 503.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import Settings
from ..errors import (
    ApiError,
    ElksxlError,
    InputError,
    JournalError,
    OutOfCreditsError,
    TransportError,
)
from ..pricing import to_currency
from .backend import Backend, RunConflictError, check_public_url
from .functions import call_functions, text_info
from .payload import parse_selection
from .preview import preview
from .security import Guard, allowed_caller, caller_address, require_token
from .static import find_addin_dir, find_manifest, find_templates_dir, render_manifest

if TYPE_CHECKING:
    import httpx

__all__ = ["create_app"]

_log = logging.getLogger("elksxl.server")


def create_app(
    settings: Settings,
    *,
    addin_dir: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The backend app. Raises ConfigError when no token is configured (or another setting is
    unusable); stored unfinished runs are resumed when the app starts."""
    token = require_token(settings)
    check_public_url(settings)
    backend = Backend(settings, token, transport)
    folder = find_addin_dir(addin_dir)
    manifest = find_manifest(folder)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        backend.resume()
        try:
            yield
        finally:
            await backend.shutdown()

    routes: list[Route | Mount] = [
        Route("/health", _health),
        Route("/manifest.xml", _manifest_route(manifest, settings)),
        Route("/api/templates", _templates),
        Route("/api/text", _text, methods=["POST"]),
        Route("/api/account", _account),
        Route("/api/preview", _preview, methods=["POST"]),
        Route("/api/send", _send, methods=["POST"]),
        Route("/api/runs", _runs),
        Route("/api/runs/{run}", _run),
        Route("/api/runs/{run}/cancel", _cancel, methods=["POST"]),
        Route("/api/functions", _functions, methods=["POST"]),
        Route("/api/{rest:path}", _not_found, methods=["GET", "POST"]),
        Route("/elks/delivery/{secret}", _delivery, methods=["POST"]),
    ]
    if folder is not None:
        routes.append(Mount("/", app=StaticFiles(directory=folder)))
    origins = [settings.public_url] if settings.public_url else []
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, origins=origins)],
        exception_handlers={
            ElksxlError: _error,
            HTTPException: _http_error,
            RunConflictError: _conflict,
        },
        lifespan=lifespan,
    )
    app.state.backend = backend
    return app


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


# -- errors -------------------------------------------------------------------------------------


def _where(exc: InputError) -> str | None:
    if exc.cell is None:
        return None
    return exc.cell if "!" in exc.cell or not exc.sheet else f"{exc.sheet}!{exc.cell}"


async def _error(_: Request, exc: Exception) -> Response:
    where = _where(exc) if isinstance(exc, InputError) else None
    if isinstance(exc, InputError):
        status = 400
    elif isinstance(exc, OutOfCreditsError):
        status = 402
    elif isinstance(exc, JournalError):
        status, where = 503, None
        _log.error("journal: %s", exc)
    elif isinstance(exc, TransportError | ApiError):
        status = 502
    else:
        status = 500
        _log.error("unexpected: %s", exc)
    return JSONResponse({"error": str(exc), "where": where}, status_code=status)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail, "where": None}, status_code=exc.status_code)


async def _conflict(_: Request, exc: Exception) -> Response:
    text = f"a campaign of this workbook is already running (run {exc}): wait for it or cancel it"
    return JSONResponse({"error": text, "where": None, "run": str(exc)}, status_code=409)


async def _not_found(_: Request) -> Response:
    raise HTTPException(404, "no such API endpoint")


# -- static -------------------------------------------------------------------------------------


async def _health(_: Request) -> Response:
    return JSONResponse({"ok": True})


def _manifest_route(manifest: Path | None, settings: Settings) -> Any:
    def serve_manifest(request: Request) -> Response:  # sync: file I/O runs in a worker
        if manifest is None:
            raise HTTPException(404, "no manifest.xml template found beside the add-in's files")
        origin = settings.public_url or str(request.base_url).rstrip("/")
        text = render_manifest(manifest.read_text(encoding="utf-8"), origin)
        return Response(text, media_type="application/xml")

    return serve_manifest


def _templates(_: Request) -> Response:  # sync: file I/O runs in a worker
    folder = find_templates_dir()
    found = sorted(folder.glob("*.txt")) if folder is not None else []
    templates = [
        {"name": p.name, "text": p.read_text(encoding="utf-8").rstrip("\r\n")} for p in found
    ]
    return JSONResponse({"templates": templates})


# -- the API ------------------------------------------------------------------------------------


async def _text(request: Request) -> Response:
    text = (await _body(request)).get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string')
    return JSONResponse(text_info(text))


async def _account(request: Request) -> Response:
    account = await _backend(request).account(fresh=True)
    body = {
        "name": account.name,
        "balance": to_currency(account.balance),
        "currency": account.currency,
    }
    return JSONResponse(body)


async def _preview(request: Request) -> Response:
    body = await _body(request)
    selection = parse_selection(body)
    backend = _backend(request)
    prepared = backend.prepare(selection, body)
    return JSONResponse(await preview(backend, selection, prepared))


async def _send(request: Request) -> Response:
    body = await _body(request)
    selection = parse_selection(body)
    backend = _backend(request)
    if body.get("dry_run"):
        return JSONResponse(await _dry_run(backend, selection, body))
    run = backend.start(selection, body)
    actions, cursor = run.log.since(0)
    answer = {
        "run": run.id,
        "campaign_id": run.campaign_id,
        "actions": actions,
        "cursor": str(cursor),
    }
    return JSONResponse(answer, status_code=202)


async def _dry_run(backend: Backend, selection: Any, body: dict[str, Any]) -> dict[str, Any]:
    prepared = backend.prepare(selection, body)
    result = await backend.session.dry_run(prepared, sender=body.get("sender") or None)
    account = await backend.account()
    return {
        "dry_run": {
            "messages": result.messages,
            "parts": result.parts,
            "cost": to_currency(result.estimated_cost),
            "currency": account.currency,
            "rejected": [{"row": row, "reason": reason} for row, reason in result.rejected],
        }
    }


def _cursor(request: Request) -> int:
    since = request.query_params.get("since", "")
    if not since:
        return 0
    if not since.isdigit():
        raise InputError("since must be the cursor of an earlier poll")
    return int(since)


def _find_run(request: Request) -> Any:
    run = _backend(request).runs.get(request.path_params["run"])
    if run is None:
        raise HTTPException(404, "no such run (it may have been started by another backend)")
    return run


async def _run(request: Request) -> Response:
    run = _find_run(request)
    return JSONResponse(_backend(request).poll(run, _cursor(request)))


async def _cancel(request: Request) -> Response:
    run = _find_run(request)
    if run.state != "running":
        return JSONResponse({"state": run.state})
    run.cancel.set()
    return JSONResponse({"state": "cancelling"})


async def _runs(request: Request) -> Response:
    campaign = request.query_params.get("campaign_id")
    runs = [
        r
        for r in _backend(request).runs.values()
        if campaign is None or campaign in (r.campaign_id, r.selection.table.campaign_id)
    ]
    runs.sort(key=lambda r: r.started, reverse=True)
    return JSONResponse({"runs": [r.summary() for r in runs]})


async def _functions(request: Request) -> Response:
    body = await _body(request)
    results = call_functions(body.get("calls"), _backend(request).settings.region)
    return JSONResponse({"results": results})


# -- 46elks' delivery reports -------------------------------------------------------------------


async def _delivery(request: Request) -> Response:
    backend = _backend(request)
    if not _same(request.path_params["secret"], backend.secret):
        raise HTTPException(404, "not found")
    peer = request.client.host if request.client else None
    caller = caller_address(peer, request.headers.get("x-forwarded-for"), backend.proxies)
    if not allowed_caller(caller, backend.allow):
        _log.warning("delivery report from %s refused: not in ELKSXL_CALLBACK_ALLOW", caller)
        raise HTTPException(403, "this address may not send delivery reports")
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    elks_id, status = fields.get("id", ""), fields.get("status", "")
    if not elks_id or not status:
        raise HTTPException(400, "a delivery report needs id and status")
    if not backend.record_delivery(elks_id, status, _delivered_at(fields.get("delivered"))):
        _log.info("delivery report for %s (%s): no campaign knows this SMS", elks_id, status)
    return Response(status_code=204)


def _same(given: str, secret: str) -> bool:
    import hmac

    return hmac.compare_digest(given.encode(), secret.encode())


def _delivered_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
