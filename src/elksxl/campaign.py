"""The campaign use case every surface calls: :class:`Session`.

A session is built from :class:`~elksxl.config.Settings` and owns the wiring: the 46elks
client, the rate limiter and the journal. Surfaces hand it a :class:`~elksxl.table.Table` and a
message, show the :class:`Prepared` plan, and hand it a :class:`~elksxl.table.ResultSink` to
send into. No paths: where a table came from and where its results go is the surface's
business. Nothing here prints.

A campaign is identified by an id stored in the workbook itself (``Table.campaign_id``,
written through the sink before the first message leaves), so a copied, moved or renamed
workbook resumes its campaign, and a fresh copy of a template is a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import chain, islice
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .config import Settings, validate_sender
from .errors import BalanceError, ConfigError, NotACampaignError, TemplateError
from .plan import (
    SAMPLE_ROWS,
    AlreadySent,
    Message,
    Plan,
    PlanItem,
    PlanOptions,
    build,
    find_phone_column,
    iter_plan,
)
from .pricing import PriceTable, load_example, to_currency
from .table import STATUS_COLUMN, ResultSink, Row, RowResult, Table
from .templating import MessageTemplate, compile_template

if TYPE_CHECKING:  # the HTTP stack and the journal load only when something is sent
    import httpx

    from .client import Account as Account
    from .client import ElksClient
    from .journal import Journal, JournalEntry
    from .sender import Progress as Progress
    from .sender import SendSummary

__all__ = [
    "CampaignStatus",
    "DryRunResult",
    "Notice",
    "Outcome",
    "Prepared",
    "SendResult",
    "Session",
    "StreamedPlan",
    "legacy_campaign_id",
    "load_prices",
    "read_template",
]


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


def legacy_campaign_id(table: Table) -> str:
    """The id elksxl 0.1 gave a campaign: a hash of the workbook's path and sheet.

    Only used to adopt such a campaign when its workbook, carrying results, is sent again.
    """
    source = str(Path(table.source).resolve()) if table.source else ""
    return hashlib.sha256(f"{source}\x00{table.sheet}".encode()).hexdigest()[:20]


class Notice(StrEnum):
    """Things a person must be told before anything is sent."""

    MESSAGE_CHANGED = "message changed"
    NOT_IN_JOURNAL = "not in journal"
    ADOPTED = "adopted"
    NEW_CAMPAIGN = "new campaign"


_NOTICE_TEXT = {
    Notice.MESSAGE_CHANGED: (
        "the message differs from the one this sheet's campaign was sent with: rows marked "
        "sent stay skipped and only the other rows get the new message; start a new campaign "
        "to send it to every valid row"
    ),
    Notice.NOT_IN_JOURNAL: (
        "this workbook's campaign is not in the journal at {journal} (sent from another "
        "computer or with another journal?): rows marked sent are skipped, the rest are sent"
    ),
    Notice.ADOPTED: (
        "resuming the campaign an earlier elksxl recorded for this file; its id is now stored "
        "in the workbook"
    ),
    Notice.NEW_CAMPAIGN: (
        "a new campaign: every valid row gets the message, rows marked sent included"
    ),
}


@dataclass(frozen=True)
class Prepared:
    """A table planned with a message: what a surface shows before anything is sent."""

    table: Table
    message: str
    template: MessageTemplate
    options: PlanOptions
    prices: PriceTable
    plan: Plan
    campaign_id: str | None  # the campaign this sheet belongs to; None: a new one at send
    notices: tuple[Notice, ...]
    journal_path: Path
    # Rows the journal says may already have reached their recipient (a crash kept their
    # results from the sheet): not sent again, but their results are written.
    recorded: tuple[Message, ...] = ()

    def notice_texts(self) -> list[str]:
        return [_NOTICE_TEXT[n].format(journal=self.journal_path) for n in self.notices]


@dataclass(frozen=True)
class StreamedPlan:
    """A plan produced row by row, for outputs that need not hold the whole sheet."""

    table: Table
    prices: PriceTable
    phone_column: str
    items: Iterator[PlanItem]


class Outcome(StrEnum):
    COMPLETE = "complete"  # every planned message was accepted by 46elks
    PARTIAL = "partial"  # some rows failed, were not sent or are unknown
    CANCELLED = "cancelled"  # the user stopped it; a resume sends the rest
    STOPPED = "stopped"  # out of credits or authentication: nothing more can go out


@dataclass(frozen=True)
class SendResult:
    campaign_id: str
    outcome: Outcome
    summary: SendSummary
    currency: str | None


@dataclass(frozen=True)
class DryRunResult:
    """What 46elks itself says the campaign would cost (dryrun=yes for every message)."""

    messages: int
    parts: int
    estimated_cost: int
    rejected: tuple[tuple[int, str], ...]  # (row, reason) for messages 46elks would refuse


@dataclass(frozen=True)
class CampaignStatus:
    campaign_id: str
    counts: dict[str, int]  # status word -> rows
    cost: int  # 1/10000 of ``currency``
    currency: str | None


class Session:
    """One person's (or one server's) use of elksxl: plan, check, send, status.

    Use as a context manager; the journal is opened when first needed and closed at the end.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        save_every: float = 30.0,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._save_every = save_every
        self._journal: Journal | None = None
        self._prices: PriceTable | None = None
        self._account: Account | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # -- planning (no network) -------------------------------------------------------------

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            self._prices = load_prices(self.settings.prices_path)
        return self._prices

    def options(self, **changes: object) -> PlanOptions:
        """Plan options with this session's region, and ``changes``."""
        return replace(PlanOptions(region=self.settings.region), **changes)  # type: ignore[arg-type]

    def prepare(
        self,
        table: Table,
        message: str,
        options: PlanOptions | None = None,
        *,
        message_name: str = "message",
        new_campaign: bool = False,
    ) -> Prepared:
        """Compile the message against the table's header and plan; sends nothing.

        Rows the journal says may already have reached their recipient count as already
        sent, so the plan's figures are what a send will do.
        """
        options = replace(options or self.options(), skip_sent=not new_campaign)
        template = self._compile(message, table, message_name)
        campaign, notices = self._identify(table, message, new_campaign)
        plan = build(table, template, options, self.prices)
        recorded: tuple[Message, ...] = ()
        if campaign is not None:
            plan, recorded = _without_arrived(plan, self._arrived(campaign))
        return Prepared(
            table,
            message,
            template,
            options,
            self.prices,
            plan,
            campaign,
            notices,
            self.settings.journal_path,
            recorded,
        )

    def stream_plan(
        self,
        table: Table,
        rows: Iterator[Row],
        message: str,
        options: PlanOptions | None = None,
        *,
        message_name: str = "message",
    ) -> StreamedPlan:
        """Like :meth:`prepare`, consuming ``rows`` one at a time (100,000-row sheets)."""
        options = options or self.options()
        template = self._compile(message, table, message_name)
        campaign, _ = self._identify(table, message, new_campaign=False)
        head = list(islice(rows, SAMPLE_ROWS))
        phone = find_phone_column(table, options.phone_column, head)
        items = iter_plan(
            table, chain(head, rows), template, options, self.prices, phone_index=phone
        )
        if campaign is not None:
            arrived = self._arrived(campaign)
            items = (
                AlreadySent(i.row) if isinstance(i, Message) and arrived(i.row, i.to, i.text) else i
                for i in items
            )
        return StreamedPlan(table, self.prices, table.header[phone], items)

    def _compile(self, message: str, table: Table, name: str) -> MessageTemplate:
        if not message.strip():
            raise TemplateError("the message is empty", file=None if name == "message" else name)
        return compile_template(message, table.header, name=name)

    def _identify(
        self, table: Table, message: str, new_campaign: bool
    ) -> tuple[str | None, tuple[Notice, ...]]:
        """Which campaign the sheet belongs to, and what the user must be told about it."""
        if new_campaign:
            known = table.campaign_id is not None or _has_results(table)
            return None, (Notice.NEW_CAMPAIGN,) if known else ()
        journal = self._open_journal(create=False)
        campaign, notices = table.campaign_id, []
        if campaign is None:
            legacy = legacy_campaign_id(table)
            if journal is None or not _has_results(table) or journal.campaign(legacy) is None:
                return None, ()
            campaign = legacy
            notices.append(Notice.ADOPTED)
        recorded = journal.campaign(campaign) if journal is not None else None
        if recorded is None:
            notices.append(Notice.NOT_IN_JOURNAL)
        elif recorded.message is not None and recorded.message != message:
            notices.append(Notice.MESSAGE_CHANGED)
        return campaign, tuple(notices)

    def _arrived(self, campaign: str) -> Callable[[int, str, str], bool]:
        from .results import arrived_matcher

        journal = self._open_journal(create=False)
        return arrived_matcher(journal.entries(campaign) if journal is not None else ())

    def _open_journal(self, *, create: bool = True) -> Journal | None:
        """The journal, opened once; without ``create``, None when there is no journal file."""
        if self._journal is None:
            if not create and not self.settings.journal_path.exists():
                return None
            from .journal import Journal

            self._journal = Journal.open(self.settings.journal_path)
        return self._journal

    # -- the account ---------------------------------------------------------------------------

    def _client(self) -> ElksClient:
        from .client import ElksClient

        self.settings.require_credentials()
        return ElksClient(self.settings, transport=self._transport)

    async def account(self) -> Account:
        """The 46elks account: name, currency, balance. Remembered for the rest of the session."""
        async with self._client() as client:
            self._account = await client.me()
        return self._account

    def check_balance(self, prepared: Prepared, account: Account, *, force: bool = False) -> str:
        """Raise BalanceError when the estimate exceeds the balance; else say what was checked.

        Never skipped silently: when the estimate is unknown or in another currency than the
        account, the returned text says the balance could not be compared.
        """
        plan, balance = prepared.plan, f"{to_currency(account.balance):.2f} {account.currency}"
        estimate = plan.estimated_cost
        if plan.currency != account.currency:
            return (
                f"balance {balance}: not compared with the estimate, which is in "
                f"{plan.currency or 'no currency'}; use a price table in {account.currency}"
            )
        if estimate is None:
            return (
                f"balance {balance}: not compared, the estimate is unknown (rows without a price)"
            )
        cost = f"{to_currency(estimate):.2f} {account.currency}"
        if estimate <= account.balance:
            return f"balance {balance}: covers the estimated cost {cost}"
        if force:
            return f"balance {balance}: below the estimated cost {cost}; sending anyway (forced)"
        raise BalanceError(
            f"the estimated cost {cost} exceeds the balance {balance}: top up the account, or "
            "send anyway (--force; invoiced accounts may go below zero)"
        )

    def require_sender(self, sender: str | None) -> str:
        """The sender to use: given, else the configured one; checked as 46elks does."""
        chosen = sender or self.settings.sender
        if not chosen:
            raise ConfigError(
                "no sender: give --from NAME or set ELKS_FROM (e.g. MyShop or +46701234567)"
            )
        return validate_sender(chosen)

    # -- sending -------------------------------------------------------------------------------

    async def dry_run(
        self,
        prepared: Prepared,
        *,
        sender: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> DryRunResult:
        """Ask 46elks for the exact parts and price of every planned message; sends nothing."""
        from .dryrun import price_messages

        chosen = self.require_sender(sender)
        async with self._client() as client:
            parts, cost, rejected = await price_messages(
                client,
                prepared.plan.messages,
                chosen,
                self.settings.rate_per_minute,
                on_progress=on_progress,
            )
        return DryRunResult(len(prepared.plan.messages), parts, cost, rejected)

    async def send(
        self,
        prepared: Prepared,
        sink: ResultSink,
        *,
        sender: str | None = None,
        flash: bool = False,
        whendelivered: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: asyncio.Event | None = None,
        save_in_thread: bool = True,
    ) -> SendResult:
        """Send the plan through the journal, writing results into ``sink`` as they settle.

        Before the first message leaves, the campaign id and the problem rows are saved
        through the sink: a copy of the workbook taken after a crash resumes this campaign.
        """
        from .ratelimit import TokenBucket
        from .results import (
            PeriodicSaver,
            journal_results,
            plan_into_journal,
            problem_results,
            row_result,
        )
        from .sender import Sender, SendOptions

        options = SendOptions(
            sender=self.require_sender(sender), whendelivered=whendelivered, flash=flash
        )
        journal = self._open_journal()
        assert journal is not None
        async with self._client() as client:
            account = self._account or await client.me()
            campaign = prepared.campaign_id or uuid.uuid4().hex
            journal.ensure_campaign(
                campaign,
                source=prepared.table.source,
                sheet=prepared.table.sheet,
                sender=options.sender,
                options={"region": prepared.options.region},
                currency=account.currency,
                message=prepared.message,
            )
            saver = PeriodicSaver(sink, self._save_every, in_thread=save_in_thread)
            sink.set_campaign_id(campaign)
            saver.add_all(problem_results(prepared.plan))
            saver.add_all(journal_results(journal, campaign, prepared.recorded))
            await saver.flush()
            plan_into_journal(prepared.plan, journal, campaign)
            planned = {m.row: m.to for m in prepared.plan.messages}

            def settled(entry: JournalEntry) -> None:
                if planned.get(entry.row) == entry.to:
                    saver.add(entry.row, row_result(entry))

            limiter = TokenBucket(self.settings.rate_per_minute)
            run = Sender(
                journal, client, limiter, options, on_progress=on_progress, on_settled=settled
            )
            saving = asyncio.create_task(saver.run())
            try:
                summary = await run.run(campaign, cancel=cancel)
            finally:
                saving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await saving
                everyone = (*prepared.recorded, *prepared.plan.messages)
                saver.add_all(journal_results(journal, campaign, everyone))
                await saver.flush()
        return SendResult(campaign, _outcome(summary), summary, account.currency)

    # -- delivery reports ----------------------------------------------------------------------

    def record_delivery(self, elks_id: str, status: str, at: datetime | None = None) -> bool:
        """Record a delivery report (46elks' callback or a lookup); True when a campaign knew
        the message. Idempotent and order-proof: a repeated report changes nothing, and a late
        ``sent`` never overwrites ``delivered`` or ``failed``."""
        journal = self._open_journal()
        assert journal is not None
        return journal.mark_delivery(elks_id, status, at) is not None

    def results(self, campaign_id: str) -> dict[int, RowResult]:
        """Each row's result cells as the journal holds them now (empty for an unknown campaign).

        For surfaces that follow a campaign after its run, such as delivery reports reaching
        the add-in's sheet."""
        from .results import journal_results

        journal = self._open_journal(create=False)
        return {} if journal is None else journal_results(journal, campaign_id)

    # -- status --------------------------------------------------------------------------------

    def status(self, table: Table, sink: ResultSink | None = None) -> CampaignStatus:
        """The campaign's state from the journal; with ``sink``, also written into the sheet.

        Rows the journal does not hold (invalid numbers, duplicates) are counted from the
        sheet's own status column.
        """
        from .results import journal_results

        journal = self._open_journal(create=False)
        campaign = table.campaign_id
        if campaign is None and journal is not None and _has_results(table):
            legacy = legacy_campaign_id(table)
            campaign = legacy if journal.campaign(legacy) is not None else None
        recorded = journal.campaign(campaign) if journal is not None and campaign else None
        if journal is None or campaign is None or recorded is None:
            where = f"the journal at {self.settings.journal_path}"
            raise NotACampaignError(
                f"no campaign of this workbook is in {where}: nothing was sent from it "
                "with this journal",
                file=table.source or None,
                sheet=table.sheet,
            )
        results = journal_results(journal, campaign)
        counts: dict[str, int] = {}
        for word in _sheet_statuses(table, exclude=results.keys()):
            counts[word] = counts.get(word, 0) + 1
        for result in results.values():
            word = result.status or "unknown"
            counts[word] = counts.get(word, 0) + 1
        if sink is not None:
            for row, result in results.items():
                sink.set(row, result)
            sink.save()
        return CampaignStatus(campaign, counts, journal.total_cost(campaign), recorded.currency)


def _has_results(table: Table) -> bool:
    return any(True for _ in _sheet_statuses(table))


def _sheet_statuses(table: Table, exclude: Iterable[int] = ()) -> Iterator[str]:
    """The status words already in the sheet's ``SMS status`` column."""
    index = table.column_index(STATUS_COLUMN)
    if index is None:
        return
    skip = set(exclude)
    for row in table.rows:
        if row.number in skip or index >= len(row.values):
            continue
        value = row.values[index]
        if isinstance(value, str) and value.strip():
            yield value.strip().casefold()


def _without_arrived(
    plan: Plan, arrived: Callable[[int, str, str], bool]
) -> tuple[Plan, tuple[Message, ...]]:
    """The plan with messages the journal says may have arrived moved to ``already_sent``,
    and those messages."""
    gone = tuple(m for m in plan.messages if arrived(m.row, m.to, m.text))
    if not gone:
        return plan, ()
    rows = {m.row for m in gone}
    kept = replace(
        plan,
        messages=tuple(m for m in plan.messages if m.row not in rows),
        already_sent=tuple(sorted((*plan.already_sent, *rows))),
    )
    return kept, gone


def _outcome(summary: SendSummary) -> Outcome:
    from .journal import State

    if summary.stopped is not None:
        return Outcome.STOPPED
    if summary.cancelled:
        return Outcome.CANCELLED
    settled = (State.SENT, State.DELIVERED)
    if any(n for state, n in summary.counts.items() if state not in settled):
        return Outcome.PARTIAL
    return Outcome.COMPLETE
