"""The use case every surface runs: read, plan, (confirm), send through the journal, write back.

Surfaces translate their input into a :class:`CampaignRequest` and their output from the
:class:`~elksxl.plan.Plan` and progress events; nothing here prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from .errors import ConfigError, RejectedError, TemplateError
from .journal import Journal, JournalEntry, PlannedMessage, State, message_key
from .plan import (
    SAMPLE_ROWS,
    Message,
    Plan,
    PlanItem,
    PlanOptions,
    build,
    find_phone_column,
    iter_plan,
)
from .pricing import PriceTable, load_example, to_currency
from .sheets import RowResult, WorkbookWriter, open_writer, read_table, stream_table

if TYPE_CHECKING:  # the HTTP stack is loaded only when something is sent (plan stays lean)
    from .client import ElksClient
    from .ratelimit import TokenBucket
    from .sender import Progress, SendOptions, SendSummary
from .table import Table
from .templating import MessageTemplate, compile_template

__all__ = [
    "CampaignRequest",
    "DryRunResult",
    "Prepared",
    "SendResult",
    "StreamedPlan",
    "campaign_id",
    "default_journal_path",
    "dry_run",
    "load_prices",
    "plan_into_journal",
    "prepare",
    "read_template",
    "send",
    "stream_plan",
    "write_status",
]


@dataclass(frozen=True)
class CampaignRequest:
    """What the user asked for: which rows, which message, how to read numbers, which prices."""

    workbook: Path
    sheet: str | None = None
    template_path: Path | None = None
    message: str | None = None
    options: PlanOptions = field(default_factory=PlanOptions)
    prices_path: Path | None = None


@dataclass(frozen=True)
class Prepared:
    """A request turned into a table, a compiled template, prices and the plan."""

    request: CampaignRequest
    table: Table
    template: MessageTemplate
    prices: PriceTable
    plan: Plan


def read_template(path: Path) -> str:
    """The text of a template file; a final newline is not part of the message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found: check the path", file=str(path)) from None
    except IsADirectoryError:
        raise TemplateError("is a folder, not a template file", file=str(path)) from None
    except UnicodeDecodeError:
        raise TemplateError("is not UTF-8 text: save it as UTF-8", file=str(path)) from None
    return text.removesuffix("\n").removesuffix("\r")


def load_prices(path: Path | None) -> PriceTable:
    """The price table at ``path``, or the packaged example table."""
    if path is None:
        return load_example()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the price table: {exc.strerror}", file=str(path)) from None
    return PriceTable.from_json(text, source=str(path))


def _message(request: CampaignRequest) -> tuple[str, str]:
    """The template source and its name for messages, from a file or the message option."""
    if (request.template_path is None) == (request.message is None):
        raise TemplateError("give exactly one of a template file or a message text")
    if request.template_path is not None:
        source, name = read_template(request.template_path), str(request.template_path)
    else:
        source, name = request.message or "", "message"
    if not source.strip():
        raise TemplateError("the message is empty", file=name if request.template_path else None)
    return source, name


def prepare(request: CampaignRequest) -> Prepared:
    """Read, compile and plan. Raises InputError subclasses naming what is wrong; sends nothing."""
    source, name = _message(request)
    prices = load_prices(request.prices_path)
    table = read_table(request.workbook, request.sheet)
    template = compile_template(source, table.header, name=name)
    plan = build(table, template, request.options, prices)
    return Prepared(request, table, template, prices, plan)


@dataclass(frozen=True)
class StreamedPlan:
    """A plan produced row by row, for outputs that need not hold the whole sheet."""

    table: Table
    prices: PriceTable
    phone_column: str
    items: Iterator[PlanItem]


@contextlib.contextmanager
def stream_plan(request: CampaignRequest) -> Iterator[StreamedPlan]:
    """Like :func:`prepare`, but rows are read and planned one at a time inside the block."""
    source, name = _message(request)
    prices = load_prices(request.prices_path)
    with stream_table(request.workbook, request.sheet) as (table, rows):
        template = compile_template(source, table.header, name=name)
        head = list(islice(rows, SAMPLE_ROWS))
        phone = find_phone_column(table, request.options.phone_column, head)
        items = iter_plan(
            table, chain(head, rows), template, request.options, prices, phone_index=phone
        )
        yield StreamedPlan(table, prices, table.header[phone], items)


# --- sending -------------------------------------------------------------------------------


def campaign_id(table: Table) -> str:
    """A campaign is one sheet of one workbook file: re-running it resumes the same campaign."""
    source = str(Path(table.source).resolve()) if table.source else ""
    return hashlib.sha256(f"{source}\x00{table.sheet}".encode()).hexdigest()[:20]


def default_journal_path(environ: Mapping[str, str]) -> Path:
    """ELKSXL_JOURNAL, else journal.sqlite3 under the user's state directory."""
    if environ.get("ELKSXL_JOURNAL"):
        return Path(environ["ELKSXL_JOURNAL"])
    return Path(platformdirs.user_state_dir("elksxl")) / "journal.sqlite3"


@dataclass(frozen=True)
class DryRunResult:
    """What 46elks itself says the campaign would cost (dryrun=yes for every message)."""

    messages: int
    parts: int
    estimated_cost: int
    rejected: tuple[tuple[int, str], ...]  # (row, reason) for messages 46elks would refuse


async def dry_run(
    prepared: Prepared,
    client: ElksClient,
    sender: str,
    limiter: TokenBucket,
    *,
    concurrency: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
) -> DryRunResult:
    """Ask 46elks for the exact parts and price of every planned message; sends nothing."""
    messages = prepared.plan.messages
    parts = cost = done = 0
    rejected: list[tuple[int, str]] = []
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)

    async def worker() -> None:
        nonlocal parts, cost, done
        while not queue.empty():
            message = queue.get_nowait()
            await limiter.acquire()
            try:
                sms = await client.dry_run(to=message.to, message=message.text, sender=sender)
            except RejectedError as exc:
                rejected.append((message.row, exc.body or str(exc)))
            else:
                parts += sms.parts or message.parts
                cost += sms.estimated_cost or 0
            done += 1
            if on_progress:
                on_progress(done, len(messages))

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(messages))))))
    return DryRunResult(len(messages), parts, cost, tuple(sorted(rejected)))


def plan_into_journal(prepared: Prepared, journal: Journal, campaign: str, sender: str) -> int:
    """Record every planned message (idempotent) and drop stale unsent entries of earlier runs.

    A message that may have arrived (sent, in flight, unknown, ...) is never planned again:
    not for the same row under another text (the template was edited between runs), nor for
    the same recipient and text under another row number (rows were inserted or sorted).
    """
    plan, table = prepared.plan, prepared.table
    journal.ensure_campaign(
        campaign,
        source=table.source,
        sheet=table.sheet,
        sender=sender,
        options={"template": prepared.template.source, "region": prepared.request.options.region},
    )
    existing = journal.entries(campaign)
    arrived = [e for e in existing if e.state in _MAY_HAVE_ARRIVED]
    taken_rows = {(e.row, e.to) for e in arrived}
    taken_texts = {(e.to, e.text) for e in arrived}
    wanted = [
        PlannedMessage(m.row, m.to, m.text)
        for m in plan.messages
        if (m.row, m.to) not in taken_rows and (m.to, m.text) not in taken_texts
    ]
    wanted_keys = {message_key(campaign, p.row, p.to, p.text) for p in wanted}
    stale = [
        e.key
        for e in existing
        if e.state in (State.PLANNED, State.NOT_SENT) and e.key not in wanted_keys
    ]
    journal.discard(stale)
    return journal.add_planned(campaign, wanted)


_MAY_HAVE_ARRIVED = frozenset(
    {State.SENT, State.DELIVERED, State.IN_FLIGHT, State.UNKNOWN, State.FAILED}
)
_STATUS_WORDS = {
    State.SENT: "sent",
    State.DELIVERED: "delivered",
    State.FAILED: "failed",
    State.REJECTED: "failed",
    State.UNKNOWN: "unknown",
    State.IN_FLIGHT: "unknown",
    State.NOT_SENT: "not sent",
    State.PLANNED: "not sent",
}


def row_result(entry: JournalEntry) -> RowResult:
    """The result cells of a journal entry, as written into the sheet."""
    error = entry.error
    if entry.state is State.PLANNED:
        error = "not sent yet (cancelled): run the campaign again to send"
    elif entry.state in (State.UNKNOWN, State.IN_FLIGHT) and not error:
        error = "outcome unknown: run again to reconcile with 46elks"
    return RowResult(
        status=_STATUS_WORDS[entry.state],
        sms_id=entry.elks_id,
        parts=entry.parts,
        cost=None if entry.cost is None else to_currency(entry.cost),
        error=error or "",
        sent_at=entry.settled_at if entry.elks_id else None,
        delivered_at=entry.delivered_at,
    )


def problem_results(plan: Plan) -> dict[int, RowResult]:
    """Result cells for rows that are not sent: invalid numbers, empty fields, duplicates."""
    results = {p.row: RowResult(status="invalid", error=p.reason) for p in plan.problems}
    for d in plan.duplicates:
        results[d.row] = RowResult(status="duplicate", error=f"same number as row {d.first_row}")
    return results


def journal_results(
    journal: Journal, campaign: str, messages: Iterable[Message] | None = None
) -> dict[int, RowResult]:
    """Results per row from the journal (the source of truth).

    With ``messages`` (the current plan), each planned row gets the result of its journal
    entry: same row and recipient, or same recipient and text when rows have moved. Where
    several entries fit, one that may have arrived wins over one that surely did not.
    """
    entries = journal.entries(campaign)
    if messages is None:
        return {row: row_result(entry) for row, entry in _best_by(entries, lambda e: e.row)}
    by_row = dict(_best_by(entries, lambda e: (e.row, e.to)))
    by_text = dict(_best_by(entries, lambda e: (e.to, e.text)))
    results: dict[int, RowResult] = {}
    for m in messages:
        found = [e for e in (by_row.get((m.row, m.to)), by_text.get((m.to, m.text))) if e]
        if found:
            results[m.row] = row_result(max(found, key=_weight))
    return results


def _weight(entry: JournalEntry) -> tuple[bool, datetime]:
    return entry.state in _MAY_HAVE_ARRIVED, entry.attempted_at or entry.planned_at


def _best_by(
    entries: Iterable[JournalEntry], key: Callable[[JournalEntry], object]
) -> Iterator[tuple[Any, JournalEntry]]:
    best: dict[object, JournalEntry] = {}
    for entry in entries:
        k = key(entry)
        if k not in best or _weight(entry) > _weight(best[k]):
            best[k] = entry
    return iter(best.items())


@dataclass(frozen=True)
class SendResult:
    """How a send run ended and where its results were written."""

    campaign: str
    summary: SendSummary
    written_to: Path


class _PeriodicWriter:
    """Applies settled rows to the workbook in batches, saving off the event loop, one at a time."""

    def __init__(self, writer: WorkbookWriter, interval: float) -> None:
        self._writer = writer
        self._interval = interval
        self._pending: dict[int, RowResult] = {}
        self._lock = asyncio.Lock()
        self.written_to = writer.target

    def add(self, row: int, result: RowResult) -> None:
        self._pending[row] = result

    async def flush(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, {}
            self.written_to = await asyncio.to_thread(self._apply_and_save, batch)

    def _apply_and_save(self, batch: Mapping[int, RowResult]) -> Path:
        for row, result in batch.items():
            self._writer.set(row, result)
        return self._writer.save()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._pending:
                await self.flush()


async def send(
    prepared: Prepared,
    *,
    journal: Journal,
    client: ElksClient,
    limiter: TokenBucket,
    options: SendOptions,
    writer: WorkbookWriter,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: asyncio.Event | None = None,
    save_every: float = 30.0,
) -> SendResult:
    """Send the plan through the journal, writing results into the workbook as they settle."""
    from .sender import Sender

    campaign = campaign_id(prepared.table)
    plan_into_journal(prepared, journal, campaign, options.sender)
    planned_rows = {m.row: m.to for m in prepared.plan.messages}
    periodic = _PeriodicWriter(writer, save_every)
    for row, result in problem_results(prepared.plan).items():
        periodic.add(row, result)

    def settled(entry: JournalEntry) -> None:
        if planned_rows.get(entry.row) == entry.to:
            periodic.add(entry.row, row_result(entry))

    sender = Sender(journal, client, limiter, options, on_progress=on_progress, on_settled=settled)
    saver = asyncio.create_task(periodic.run())
    try:
        summary = await sender.run(campaign, cancel=cancel)
    finally:
        saver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await saver
        for row, result in journal_results(journal, campaign, prepared.plan.messages).items():
            periodic.add(row, result)
        await periodic.flush()
    return SendResult(campaign, summary, periodic.written_to)


def write_status(path: Path, table: Table, journal: Journal) -> tuple[dict[State, int], Path]:
    """Write the journal's view of the campaign into the workbook (no sending); counts per state."""
    campaign = campaign_id(table)
    writer = open_writer(path, table)
    for row, result in journal_results(journal, campaign).items():
        writer.set(row, result)
    return journal.counts(campaign), writer.save()
