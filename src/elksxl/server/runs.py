"""Campaign runs of the add-in backend: started by a request, running on after the pane closes,
resumed after a restart.

Each accepted run's request (the selection, message, options, sender) is kept as a small JSON
file in ``runs/`` beside the journal until it ends; on startup unfinished ones are prepared and
sent again, and the journal sees to it that nobody gets a message twice. A run's results go
into its :class:`~elksxl.server.actions.ActionLog`; polls read the log after their cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..campaign import Outcome, Prepared, Session
from ..errors import ElksxlError
from ..plan import PlanOptions
from ..pricing import to_currency
from .actions import ActionLog, ResultLayout
from .payload import Selection, parse_selection

if TYPE_CHECKING:
    from ..campaign import Progress

__all__ = ["TEST_NUMBER", "Run", "RunStore", "for_test_number", "plan_options"]

TEST_NUMBER = "+46700000000"
"""46elks' test number: accepted, free, delivered to nobody."""

_FINAL_DELIVERY = frozenset({"delivered", "failed"})
_log = logging.getLogger("elksxl.server")


def plan_options(session: Session, options: dict[str, Any]) -> PlanOptions:
    """The pane's options (see ADDIN_API.md) as PlanOptions."""
    region = options.get("region") or session.settings.region
    return session.options(
        phone_column=options.get("phone_column") or None,
        region=str(region).upper(),
        mobile_only=bool(options.get("mobile_only")) and not options.get("allow_landlines"),
        smart_encoding=bool(options.get("smart_encoding")),
    )


def for_test_number(prepared: Prepared, campaign_id: str) -> Prepared:
    """The plan with every message going to the 46elks test number, as its own campaign.

    The plan was deduplicated on the real numbers, so each real recipient still yields one
    message; they all go to one number, which is expected. A separate campaign keeps these
    rows from counting as sent to their real recipients.
    """
    messages = tuple(replace(m, to=TEST_NUMBER) for m in prepared.plan.messages)
    return replace(
        prepared,
        plan=replace(prepared.plan, messages=messages),
        campaign_id=campaign_id,
        recorded=(),
        notices=(),
    )


@dataclass
class Run:
    """One send started from the pane: its request, its state and its results."""

    id: str
    campaign_id: str
    started: datetime
    request: dict[str, Any]
    selection: Selection
    log: ActionLog
    test: bool = False
    state: str = "running"
    message: str = ""
    currency: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    deliveries_seen: int = -1

    @classmethod
    def create(
        cls, request: dict[str, Any], selection: Selection, campaign_id: str, *, run_id: str = ""
    ) -> Run:
        test = bool(request.get("test_number_only"))
        log = ActionLog(
            ResultLayout.of(selection),
            selection.table,
            selection.utc_offset_minutes,
            status_word=(lambda s: f"test: {s}") if test else str,
            store_campaign_id=not test,
        )
        return cls(
            run_id or uuid.uuid4().hex,
            campaign_id,
            datetime.now(UTC),
            request,
            selection,
            log,
            test,
        )

    def on_progress(self, progress: Progress) -> None:
        self.progress = {
            "total": progress.total,
            "done": progress.total - progress.remaining,
            "sent": progress.sent,
            "failed": progress.rejected + progress.not_sent,
            "unknown": progress.unknown,
            "cost": to_currency(progress.cost),
            "currency": self.currency,
        }

    def summary(self) -> dict[str, Any]:
        return {"run": self.id, "state": self.state, "started": self.started.isoformat()}

    def poll(self, cursor: int) -> dict[str, Any]:
        actions, new_cursor = self.log.since(cursor)
        state = "cancelling" if self.state == "running" and self.cancel.is_set() else self.state
        return {
            "run": self.id,
            "campaign_id": self.campaign_id,
            "state": state,
            "progress": self.progress
            or {
                "total": 0,
                "done": 0,
                "sent": 0,
                "failed": 0,
                "unknown": 0,
                "cost": 0.0,
                "currency": self.currency,
            },
            "actions": actions,
            "cursor": str(new_cursor),
            "message": self.message,
        }

    def take_deliveries(self, session: Session, generation: int) -> None:
        """Write delivered/failed reports the journal got since the last look into the log."""
        if generation == self.deliveries_seen:
            return
        self.deliveries_seen = generation
        rows = set(self.log.rows())
        for row, result in session.results(self.campaign_id).items():
            if row in rows and result.status in _FINAL_DELIVERY:
                self.log.set(row, result)
        self.log.save()

    def delivery(self, session: Session) -> dict[str, int]:
        """This run's rows by delivery report: delivered, undelivered, awaiting a report."""
        rows = set(self.log.rows())
        words = [r.status for row, r in session.results(self.campaign_id).items() if row in rows]
        return {
            "delivered": words.count("delivered"),
            "undelivered": words.count("failed"),
            "awaiting": words.count("sent"),
        }

    def take_all(self, session: Session) -> None:
        """Fill the log from the journal (a run that ended before a restart)."""
        rows = set(self.log.rows())
        for row, result in session.results(self.campaign_id).items():
            if row in rows:
                self.log.set(row, result)
        self.log.save()

    async def execute(
        self,
        prepared: Prepared,
        session: Session,
        *,
        whendelivered: str | None,
        on_end: Callable[[Run], None],
    ) -> None:
        """Send ``prepared`` through ``session`` (closed at the end); never raises except when
        cancelled by a shutdown, which leaves the run to be resumed."""
        try:
            with session:
                account = await session.account()
                self.currency = account.currency
                result = await session.send(
                    prepared,
                    self.log,
                    sender=self.request.get("sender") or None,
                    whendelivered=whendelivered,
                    on_progress=self.on_progress,
                    cancel=self.cancel,
                    save_in_thread=False,
                )
            self.state = str(result.outcome)
            self.message = _outcome_text(result.outcome, result.summary.stopped)
        except ElksxlError as exc:
            _log.warning("run %s stopped: %s", self.id, exc)
            self.state, self.message = "stopped", str(exc)
        except Exception as exc:  # a bug must not leave the run "running" for ever
            _log.exception("run %s failed", self.id)
            self.state, self.message = "stopped", f"stopped by an internal error: {exc}"
        on_end(self)


def _outcome_text(outcome: Outcome, stopped: Exception | None) -> str:
    if outcome is Outcome.STOPPED and stopped is not None:
        return str(stopped)
    return {
        Outcome.COMPLETE: "every message was accepted by 46elks",
        Outcome.PARTIAL: "some rows were not sent: see SMS status and SMS error",
        Outcome.CANCELLED: "cancelled: send again to send the rest",
        Outcome.STOPPED: "stopped: nothing more can be sent",
    }[outcome]


class RunStore:
    """Accepted runs' requests as JSON files (mode 0600: they hold phone numbers)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, run: Run) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "run": run.id,
            "campaign_id": run.campaign_id,
            "started": run.started.isoformat(),
            "state": run.state,
            "message": run.message,
            "request": run.request,
        }
        path = self.folder / f"{run.id}.json"
        partial = path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)

    def load(self) -> list[Run]:
        """Every stored run, oldest first; unreadable files are logged and skipped."""
        runs = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else ():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                request = record["request"]
                request = request | {
                    "book": (request.get("book") or {}) | {"campaign_id": record["campaign_id"]}
                }
                run = Run.create(
                    request, parse_selection(request), record["campaign_id"], run_id=record["run"]
                )
                run.started = datetime.fromisoformat(record["started"])
                run.state, run.message = record["state"], record.get("message", "")
            except (OSError, ValueError, KeyError, TypeError, ElksxlError) as exc:
                _log.error("cannot read the stored run %s: %s", path, exc)
                continue
            runs.append(run)
        return sorted(runs, key=lambda r: r.started)


async def stop_all(runs: list[Run], grace: float = 10.0) -> None:
    """Cancel the tasks of running runs (a shutdown): they stay unfinished on disk."""
    tasks = [r.task for r in runs if r.task is not None and not r.task.done()]
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, Exception):
            await asyncio.wait_for(task, grace)
