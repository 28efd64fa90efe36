"""The backend's state: one Session for planning and delivery reports, the runs, the run files.

Everything here runs on the server's event loop thread (the journal connection is bound to the
thread that opened it); each run sends through a Session of its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..campaign import Prepared, Session
from ..config import Settings
from ..errors import ConfigError, ElksxlError, InputError
from .payload import Selection
from .runs import Run, RunStore, for_test_number, plan_options, stop_all
from .security import callback_secret, networks

if TYPE_CHECKING:
    import httpx

    from ..campaign import Account

__all__ = ["Backend", "RunConflictError"]

_log = logging.getLogger("elksxl.server")
_ACCOUNT_FRESH = 30.0  # seconds a balance stays good enough for a preview
_SAVE_EVERY = 0.25  # seconds between a run's sink saves: what a poll can show


class RunConflictError(Exception):
    """A campaign of this workbook is already running (HTTP 409)."""


class Backend:
    def __init__(
        self, settings: Settings, token: str, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.session = Session(settings, transport=transport)
        self.runs: dict[str, Run] = {}
        self.store = RunStore(settings.journal_path.parent / "runs")
        self.secret = callback_secret(settings, token)
        self.allow = networks(settings.callback_allow, "ELKSXL_CALLBACK_ALLOW")
        self.proxies = networks(settings.trusted_proxies, "ELKSXL_TRUSTED_PROXIES")
        self.deliveries = 0  # reports recorded so far: polls look at the journal when it moves
        self._account: tuple[float, Account] | None = None

    @property
    def whendelivered(self) -> str | None:
        public = self.settings.public_url
        return f"{public.rstrip('/')}/elks/delivery/{self.secret}" if public else None

    async def account(self, *, fresh: bool = False) -> Account:
        now = time.monotonic()
        if fresh or self._account is None or now - self._account[0] > _ACCOUNT_FRESH:
            self._account = (now, await self.session.account())
        return self._account[1]

    # -- runs ---------------------------------------------------------------------------------

    def prepare(self, selection: Selection, body: dict[str, Any]) -> Prepared:
        message = body.get("message")
        if not isinstance(message, str):
            raise InputError('the request has no "message" text')
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise InputError('"options" must be an object')
        return self.session.prepare(selection.table, message, plan_options(self.session, options))

    def start(self, selection: Selection, body: dict[str, Any]) -> Run:
        """Accept a send: check what can be checked now, store the request, start the task."""
        self.settings.require_credentials()
        self.session.require_sender(body.get("sender") or None)
        prepared = self.prepare(selection, body)
        test = bool(body.get("test_number_only"))
        if not test and prepared.campaign_id is not None:
            for run in self.runs.values():
                if run.campaign_id == prepared.campaign_id and run.state == "running":
                    raise RunConflictError(run.id)
        campaign = (
            uuid.uuid4().hex if test or prepared.campaign_id is None else prepared.campaign_id
        )
        prepared = (
            for_test_number(prepared, campaign) if test else replace(prepared, campaign_id=campaign)
        )
        run = Run.create(body, selection, campaign)
        if not test:
            run.log.set_campaign_id(campaign)
            run.log.save()
        self.store.save(run)  # before anything is sent: a restart resumes it
        self.runs[run.id] = run
        self._launch(run, prepared)
        return run

    def _launch(self, run: Run, prepared: Prepared) -> None:
        session = Session(self.settings, transport=self.transport, save_every=_SAVE_EVERY)
        run.task = asyncio.create_task(
            run.execute(prepared, session, whendelivered=self.whendelivered, on_end=self._ended)
        )

    def _ended(self, run: Run) -> None:
        try:
            self.store.save(run)
            run.take_deliveries(self.session, self.deliveries)
        except ElksxlError as exc:
            _log.error("run %s ended, but its state could not be kept: %s", run.id, exc)

    def poll(self, run: Run, cursor: int) -> dict[str, Any]:
        run.take_deliveries(self.session, self.deliveries)
        answer = run.poll(cursor)
        if run.test or run.state == "running":
            return answer | {"awaiting_reports": 0}
        delivery = run.delivery(self.session)
        # After the last send, the pane keeps asking while delivery reports are still due.
        return answer | {"awaiting_reports": delivery["awaiting"], "delivery": delivery}

    def resume(self) -> None:
        """Load the stored runs; unfinished ones are prepared and sent again."""
        for run in self.store.load():
            self.runs[run.id] = run
            if run.state != "running":
                run.take_all(self.session)
                continue
            try:
                prepared = self.prepare(run.selection, run.request)
                if run.test:
                    prepared = for_test_number(prepared, run.campaign_id)
            except ElksxlError as exc:
                run.state, run.message = "stopped", f"could not be resumed: {exc}"
                self.store.save(run)
                continue
            _log.info("resuming run %s of campaign %s", run.id, run.campaign_id)
            self._launch(run, prepared)

    async def shutdown(self) -> None:
        await stop_all(list(self.runs.values()))
        self.session.close()

    # -- delivery reports ---------------------------------------------------------------------

    async def poll_deliveries(self, interval: float) -> None:
        """Without a public URL 46elks cannot call back: ask it about sent messages instead,
        for the campaigns of this server's runs, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.refresh_runs()

    async def refresh_runs(self) -> int:
        """One round of :meth:`poll_deliveries`; how many messages got a final state."""
        settled = 0
        for campaign in {run.campaign_id for run in self.runs.values()}:
            try:
                settled += await self.session.refresh(campaign)
            except ElksxlError as exc:  # 46elks unreachable: the next round asks again
                _log.warning("delivery lookup for campaign %s failed: %s", campaign, exc)
        self.deliveries += settled
        return settled

    def record_delivery(self, elks_id: str, status: str, at: Any) -> bool:
        known = self.session.record_delivery(elks_id, status, at)
        if known:
            self.deliveries += 1
        return known


def check_public_url(settings: Settings) -> None:
    url = settings.public_url
    if url is not None and not url.startswith(("https://", "http://")):
        raise ConfigError(
            f"ELKSXL_PUBLIC_URL={url!r} must be an origin such as https://sms.example.com"
        )
