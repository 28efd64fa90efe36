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
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from itertools import chain, islice
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .config import Settings, validate_sender
from .errors import BalanceError, ConfigError, NotACampaignError, TemplateError
from .identity import (
    Lookup,
    Notice,
    identify,
    legacy_campaign_id,
    recorded_campaign,
    sheet_statuses,
)
from .inputs import load_prices, read_template
from .outcomes import (
    CampaignStatus,
    DryRunResult,
    Outcome,
    Prepared,
    SendResult,
    StreamedPlan,
    outcome_of,
)
from .plan import (
    SAMPLE_ROWS,
    AlreadySent,
    Message,
    PlanOptions,
    build,
    iter_plan,
)
from .pricing import PriceTable, to_currency
from .recipients import find_phone_columns
from .table import ResultSink, Row, RowResult, Table
from .templating import MessageTemplate, compile_template

if TYPE_CHECKING:  # the HTTP stack and the journal load only when something is sent
    import httpx

    from .client import Account as Account
    from .client import ElksClient
    from .journal import Campaign, Journal, JournalEntry
    from .sender import Progress as Progress

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
        template = self._compile(message, table, message_name, options.literal)
        campaign, notices = identify(table, message, new_campaign, self._lookup())
        plan = build(table, template, options, self.prices)
        recorded: tuple[Message, ...] = ()
        if campaign is not None:
            from .results import without_arrived

            plan, recorded = without_arrived(plan, self._arrived(campaign))
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
        template = self._compile(message, table, message_name, options.literal)
        campaign, _ = identify(table, message, False, self._lookup())
        head = list(islice(rows, SAMPLE_ROWS))
        phone = find_phone_columns(table, options.phone_columns, head)
        items = iter_plan(table, chain(head, rows), template, options, self.prices, phone=phone)
        if campaign is not None:
            arrived = self._arrived(campaign)
            items = (
                AlreadySent(i.row) if isinstance(i, Message) and arrived(i.row, i.to, i.text) else i
                for i in items
            )
        return StreamedPlan(table, self.prices, phone, items)

    def _compile(self, message: str, table: Table, name: str, literal: bool) -> MessageTemplate:
        if not message.strip():
            raise TemplateError("the message is empty", file=None if name == "message" else name)
        return compile_template(message, table.header, name=name, literal=literal)

    def _lookup(self) -> Lookup | None:
        journal = self._open_journal(create=False)
        return None if journal is None else journal.campaign

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
        from .callbacks import delivery_url
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
            sender=self.require_sender(sender),
            whendelivered=whendelivered or delivery_url(self.settings),
            flash=flash,
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
        return SendResult(campaign, outcome_of(summary), summary, account.currency)

    # -- delivery reports ----------------------------------------------------------------------

    def record_delivery(self, elks_id: str, status: str, at: datetime | None = None) -> bool:
        """Record a delivery report (46elks' callback or a lookup); True when a campaign knew
        the message. Idempotent and order-proof: a repeated report changes nothing, and a late
        ``sent`` never overwrites ``delivered`` or ``failed``."""
        journal = self._open_journal()
        assert journal is not None
        return journal.mark_delivery(elks_id, status, at) is not None

    async def refresh(
        self, campaign_id: str, *, on_progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Ask 46elks about every message of the campaign still ``sent`` and record the final
        answers (delivered, failed); returns how many were settled. At the account's rate."""
        from .deliveries import look_up
        from .journal import State

        journal = self._open_journal(create=False)
        if journal is None:
            return 0
        waiting = journal.entries(campaign_id, [State.SENT])
        if not waiting:
            return 0
        async with self._client() as client:
            return await look_up(
                client,
                waiting,
                self.settings.rate_per_minute,
                self.record_delivery,
                on_progress=on_progress,
            )

    async def wait_for_delivery(
        self,
        campaign_id: str,
        within: float,
        *,
        interval: float = 15.0,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Refresh until every message has a final state or ``within`` seconds pass; returns
        how many are still waiting. ``on_progress(final, total)`` after every round."""
        from .journal import State

        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            await self.refresh(campaign_id)
            journal = self._open_journal()
            assert journal is not None
            counts = journal.counts(campaign_id)
            final = counts[State.DELIVERED] + counts[State.FAILED]
            if on_progress:
                on_progress(final, final + counts[State.SENT])
            left = deadline - loop.time()
            if not counts[State.SENT] or left <= 0:
                return counts[State.SENT]
            await asyncio.sleep(min(interval, left))

    def campaign_of(self, table: Table) -> str:
        """The id of ``table``'s campaign in this journal; NotACampaignError when it has none."""
        return self._recorded(table).id

    def _recorded(self, table: Table) -> Campaign:
        recorded = recorded_campaign(table, self._lookup())
        if recorded is None:
            raise NotACampaignError(
                f"no campaign of this workbook is in the journal at {self.settings.journal_path}:"
                " nothing was sent from it with this journal",
                file=table.source or None,
                sheet=table.sheet,
            )
        return recorded

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
        recorded = self._recorded(table)
        journal = self._open_journal()
        assert journal is not None
        results = self.results(recorded.id)
        counts = Counter(sheet_statuses(table, exclude=results.keys()))
        counts.update(result.status or "unknown" for result in results.values())
        if sink is not None:
            for row, result in results.items():
                sink.set(row, result)
            sink.save()
        cost = journal.total_cost(recorded.id)
        return CampaignStatus(recorded.id, dict(counts), cost, recorded.currency)
