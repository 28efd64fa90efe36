"""The command line: a thin shell over the campaign core, and the only module that prints or exits.

Exit codes: 0 all planned messages sent (or nothing to do); 1 some rows failed, were not sent or
are unknown; 2 bad usage or unreadable input (nothing sent); 3 stopped (out of credits,
authentication).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from . import __version__
from .campaign import (
    CampaignRequest,
    DryRunResult,
    Prepared,
    SendResult,
    StreamedPlan,
    campaign_id,
    default_journal_path,
    dry_run,
    prepare,
    send,
    stream_plan,
    write_status,
)
from .config import Secret, Settings, validate_sender
from .errors import ConfigError, ElksxlError, InputError, StopCampaignError
from .journal import Journal, State
from .plan import Duplicate, Message, Plan, PlanOptions, Problem, Tally
from .pricing import to_currency
from .sheets import open_writer, read_table
from .templating import format_value

__all__ = ["main"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # loaded by the commands that talk to 46elks, so `plan` starts lean
    from .client import Account
    from .sender import Progress as SendProgress

# No markup by default: messages, file names and cell values are printed as they are ("[ja]" is
# text, "[/nej]" no error); the few styled prefixes ask for markup and escape what they wrap.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class Failure(click.ClickException):
    """An error shown as one clear line, with the exit code of its class."""

    def __new__(cls, message: str, exit_code: int) -> Failure:
        # click reads the class attribute exit_code; one subclass per code keeps it a constant.
        kind = _FAILURES.get(exit_code, cls)
        return super().__new__(kind)

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)

    def show(self, file: Any = None) -> None:
        err.print(f"[bold red]error:[/] {escape(self.message)}", markup=True, highlight=False)


class _Usage(Failure):
    exit_code = EXIT_USAGE


class _Stopped(Failure):
    exit_code = EXIT_STOPPED


_FAILURES: dict[int, type[Failure]] = {EXIT_USAGE: _Usage, EXIT_STOPPED: _Stopped}


def translate_errors(func: F) -> F:
    """Turn library errors into exit codes and one-line messages; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except StopCampaignError as exc:
            raise Failure(str(exc), EXIT_STOPPED) from None
        except ElksxlError as exc:
            raise Failure(str(exc), EXIT_PARTIAL) from None

    return wrapper  # type: ignore[return-value]


def plan_options(func: F) -> F:
    """The options shared by `plan` and `send`: which rows, which message, how to read numbers."""
    decorators = [
        click.argument("workbook", type=click.Path(path_type=Path, dir_okay=True, exists=False)),
        click.option("--sheet", help="Sheet to read (default: the first sheet)."),
        click.option(
            "--phone-column",
            help="Header of the column with the numbers (default: found by header or content).",
        ),
        click.option(
            "--template",
            "template_path",
            type=click.Path(path_type=Path),
            help="Message template file (Jinja; placeholders are the column headers).",
        ),
        click.option("--message", help="Message text (may use {{ Header }} placeholders)."),
        click.option(
            "--region",
            default=lambda: os.environ.get("ELKSXL_REGION", "SE"),
            show_default="SE",
            help="Country for numbers written without a country code (ISO code, e.g. SE, NO, GB).",
        ),
        click.option(
            "--mobile-only", is_flag=True, help="Treat numbers that are not mobile as problems."
        ),
        click.option(
            "--smart-encoding",
            is_flag=True,
            help="Replace curly quotes, dashes and odd spaces with GSM look-alikes (cheaper SMS).",
        ),
        click.option(
            "--prices",
            "prices_path",
            type=click.Path(path_type=Path),
            help="Price table JSON (default: the packaged example prices).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def build_request(
    workbook: Path,
    sheet: str | None,
    phone_column: str | None,
    template_path: Path | None,
    message: str | None,
    region: str,
    mobile_only: bool,
    smart_encoding: bool,
    prices_path: Path | None,
) -> CampaignRequest:
    if template_path is None and message is None:
        raise click.UsageError("give --template FILE or --message TEXT")
    if template_path is not None and message is not None:
        raise click.UsageError("give either --template or --message, not both")
    options = PlanOptions(
        phone_column=phone_column,
        region=region.upper(),
        mobile_only=mobile_only,
        smart_encoding=smart_encoding,
    )
    return CampaignRequest(workbook, sheet, template_path, message, options, prices_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="elksxl")
def cli() -> None:
    """Templated bulk SMS through 46elks, from Excel workbooks."""


@cli.command("plan")
@plan_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@translate_errors
def plan_command(as_json: bool, **kwargs: Any) -> None:
    """Show exactly what a campaign would send, to whom, and what it would cost. Sends nothing."""
    request = build_request(**kwargs)
    if as_json:
        with stream_plan(request) as streamed:
            write_plan_json(streamed, sys.stdout)
    else:
        prepared = prepare(request)
        print_plan(prepared.plan, str(request.workbook), prepared.table.sheet)


@cli.command("sim")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (local only)."
)
@click.option("--port", default=8046, show_default=True, type=int)
@click.option(
    "--scenario",
    default="default",
    show_default=True,
    help="Scenario JSON file, or a shipped one by name (default, faulty): accounts, prices, "
    "rate, delivery reports, faults.",
)
@translate_errors
def sim_command(host: str, port: int, scenario: str) -> None:
    """Run the local 46elks simulator (binds 127.0.0.1 by default; never the real 46elks).

    Point elksxl at it with ELKS_API_URL=http://127.0.0.1:8046/a1, ELKS_USERNAME=sim and
    ELKS_PASSWORD=sim.
    """
    from .simulator import Scenario, serve

    def ready(base_url: str) -> None:
        err.print(f"46elks simulator on {base_url} (Ctrl-C to stop)")

    serve(host, port, Scenario.load(scenario), on_ready=ready)


@cli.command("send")
@plan_options
@click.option(
    "--from",
    "sender",
    help="Sender: a text ID (3-11 letters/digits) or a number. Default: ELKS_FROM.",
)
@click.option(
    "--rate", type=float, help="Messages per minute (default: ELKSXL_RATE or 100; 0: no limit)."
)
@click.option("--flash", is_flag=True, help="Send as flash SMS (shown at once, not stored).")
@click.option("--dry-run", is_flag=True, help="Ask 46elks for exact parts and cost; send nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Send even if the estimate exceeds the balance.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Journal file (default: ELKSXL_JOURNAL or the user's state directory).",
)
@click.option("--whendelivered", help="URL 46elks should POST delivery reports to.")
@translate_errors
def send_command(
    sender: str | None,
    rate: float | None,
    flash: bool,
    dry_run: bool,
    yes: bool,
    force: bool,
    journal_path: Path | None,
    whendelivered: str | None,
    **kwargs: Any,
) -> None:
    """Send the campaign: plan, confirm, send through the journal, write results into the workbook.

    Running it again resumes: rows already sent are skipped, uncertain ones are reconciled.
    """
    settings = Settings.from_env(os.environ).with_changes(rate_per_minute=rate)
    settings.require_credentials()
    sender = validate_sender(sender or settings.sender or _missing_sender())
    prepared = prepare(build_request(**kwargs))
    plan = prepared.plan
    print_plan(plan, str(prepared.request.workbook), prepared.table.sheet)
    account = asyncio.run(_account(settings))
    out.print(
        f"46elks account {account.name!r}: balance {to_currency(account.balance):.2f} "
        f"{account.currency}"
    )
    if dry_run:
        priced = asyncio.run(_dry_run(prepared, settings, sender))
        out.print(
            f"dry run: {priced.messages} messages, {priced.parts} parts, "
            f"{to_currency(priced.estimated_cost):.2f} {account.currency} according to 46elks"
        )
        for row, reason in priced.rejected:
            out.print(f"  row {row}: 46elks would refuse it: {reason}")
        out.print("nothing was sent and the workbook was not changed")
        return
    _check_balance(plan, account, force)
    if plan.messages and not yes:
        if not sys.stdin.isatty():
            raise Failure("no terminal to confirm on: pass --yes to send", EXIT_USAGE)
        if not click.confirm(f"Send {len(plan.messages)} SMS now?", default=False, err=True):
            raise Failure("nothing sent", EXIT_USAGE)
    journal = Journal.open(journal_path or default_journal_path(os.environ))
    try:
        result = asyncio.run(_send(prepared, settings, sender, journal, flash, whendelivered))
    finally:
        journal.close()
    print_outcome(result)
    sys.exit(outcome_exit_code(result))


def _missing_sender() -> str:
    raise ConfigError("no sender: give --from NAME or set ELKS_FROM (e.g. MyShop or +46701234567)")


async def _account(settings: Settings) -> Account:
    from .client import ElksClient

    async with ElksClient(settings) as client:
        return await client.me()


async def _dry_run(prepared: Prepared, settings: Settings, sender: str) -> DryRunResult:
    from .client import ElksClient
    from .ratelimit import TokenBucket

    limiter = TokenBucket(settings.rate_per_minute)
    async with ElksClient(settings) as client:
        return await dry_run(prepared, client, sender, limiter)


def _check_balance(plan: Plan, account: Account, force: bool) -> None:
    estimate = plan.estimated_cost
    if estimate is None or plan.currency != account.currency or force:
        return
    if estimate > account.balance:
        raise Failure(
            f"the estimated cost {to_currency(estimate):.2f} {account.currency} exceeds the "
            f"balance {to_currency(account.balance):.2f}: top up the account, or pass --force "
            "(invoiced accounts may go below zero)",
            EXIT_USAGE,
        )


async def _send(
    prepared: Prepared,
    settings: Settings,
    sender: str,
    journal: Journal,
    flash: bool,
    whendelivered: str | None,
) -> SendResult:
    from .client import ElksClient
    from .ratelimit import TokenBucket
    from .sender import SendOptions

    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        if cancel.is_set():
            os._exit(130)  # second Ctrl-C: the journal already holds every attempt
        err.print("cancelling: letting messages in flight finish (Ctrl-C again to quit now)")
        cancel.set()

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
        loop.add_signal_handler(signal.SIGTERM, interrupt)
    limiter = TokenBucket(settings.rate_per_minute)
    options = SendOptions(sender=sender, whendelivered=whendelivered, flash=flash)
    writer = open_writer(prepared.request.workbook, prepared.table)
    with ProgressDisplay(len(prepared.plan.messages), prepared.plan.currency or "") as display:
        async with ElksClient(settings) as client:
            result = await send(
                prepared,
                journal=journal,
                client=client,
                limiter=limiter,
                options=options,
                writer=writer,
                on_progress=display.update,
                cancel=cancel,
            )
    # The writer decides where results go when it saves (a lock file may appear mid-run).
    if writer.fallback_reason is not None:
        err.print(
            f"{prepared.request.workbook} was not changed: {writer.fallback_reason}; "
            f"the results are in {writer.target}"
        )
    return result


class ProgressDisplay:
    """A progress bar on a terminal; a line every few seconds otherwise."""

    def __init__(self, total: int, currency: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._currency = currency
        self._live = err.is_terminal
        self._last_line = 0.0
        self._bar = Progress(
            TextColumn("[bold]sending"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=err,
            disable=not self._live,
        )
        self._task = self._bar.add_task("send", total=total, detail="")

    def __enter__(self) -> ProgressDisplay:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def update(self, p: SendProgress) -> None:
        detail = (
            f"sent {p.sent}  failed {p.rejected}  unknown {p.unknown}  "
            f"{p.rate_per_minute:.0f}/min  {to_currency(p.cost):.2f} {self._currency}"
        )
        self._bar.update(self._task, total=p.total, completed=p.total - p.remaining, detail=detail)
        if not self._live and (time.monotonic() - self._last_line > 5 or p.remaining == 0):
            self._last_line = time.monotonic()
            err.print(f"{p.total - p.remaining}/{p.total}  {detail}")


def outcome_exit_code(result: SendResult) -> int:
    summary = result.summary
    if summary.stopped is not None:
        return EXIT_STOPPED
    unsettled = sum(
        n for state, n in summary.counts.items() if state not in (State.SENT, State.DELIVERED)
    )
    return EXIT_PARTIAL if unsettled or summary.cancelled else EXIT_OK


def print_outcome(result: SendResult) -> None:
    summary = result.summary
    table = RichTable(title="Result")
    table.add_column("status")
    table.add_column("messages", justify="right")
    for state, count in summary.counts.items():
        if count:
            table.add_row(state.value.replace("_", " "), str(count))
    out.print(table)
    out.print(f"cost: {to_currency(summary.cost):.2f}")
    if summary.stopped is not None:
        err.print(f"[bold red]stopped:[/] {escape(str(summary.stopped))}", markup=True)
    if summary.cancelled:
        out.print("cancelled: run the same command again to send the rest")
    out.print(f"results written to {result.written_to}")


@cli.command("status")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--sheet", help="Sheet of the campaign (default: the first sheet).")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Journal file (default: ELKSXL_JOURNAL or the user's state directory).",
)
@translate_errors
def status_command(workbook: Path, sheet: str | None, journal_path: Path | None) -> None:
    """Show a campaign's state from the journal and write it into the workbook."""
    table = read_table(workbook, sheet)
    path = journal_path or default_journal_path(os.environ)
    if not path.exists():
        raise Failure(f"no journal at {path}: nothing has been sent from this machine", EXIT_USAGE)
    with Journal.open(path) as journal:
        counts, written = write_status(workbook, table, journal)
        cost = journal.total_cost(campaign_id(table))
    summary = RichTable(title=f"{workbook} (sheet {table.sheet!r})")
    summary.add_column("status")
    summary.add_column("messages", justify="right")
    for state, count in counts.items():
        summary.add_row(state.value.replace("_", " "), str(count))
    out.print(summary)
    out.print(f"cost: {to_currency(cost):.2f}")
    out.print(f"written to {written}")


@cli.command("demo")
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("templates"),
    show_default=True,
    help="Folder with campaign.xlsx and the message templates.",
)
@click.option(
    "--template",
    "template_name",
    default="appointment-reminder.sv.txt",
    show_default=True,
    help="Template file in that folder.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out"),
    show_default=True,
    help="Where the result workbook and journal go.",
)
@translate_errors
def demo_command(templates_dir: Path, template_name: str, out_dir: Path) -> None:
    """Run the example campaign against the built-in 46elks simulator and show the results."""
    from .simulator import Scenario
    from .simulator.testing import running_simulator

    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = out_dir / "demo-campaign.xlsx"
    shutil.copyfile(templates_dir / "campaign.xlsx", workbook)
    journal_path = out_dir / "demo-journal.sqlite3"
    for stale in out_dir.glob("demo-journal.sqlite3*"):
        stale.unlink()
    request = CampaignRequest(
        workbook,
        template_path=templates_dir / template_name,
        options=PlanOptions(mobile_only=True),  # a landline in the list shows up as a problem
    )
    prepared = prepare(request)
    print_plan(prepared.plan, str(workbook), prepared.table.sheet, shown=3)
    # The simulator bills at the example prices, so the estimate can be checked against it.
    scenario = Scenario.from_dict({"prices": dict(prepared.prices.prices), "rate_per_minute": 0})
    with running_simulator(scenario) as sim:
        account = scenario.accounts[0]
        settings = Settings(
            username=account.username,
            password=Secret(account.password),
            api_urls=(sim.base_url,),
            rate_per_minute=0,
        )
        out.print(f"\nsending through the 46elks simulator at {sim.base_url}")
        with Journal.open(journal_path) as journal:
            result = asyncio.run(_send(prepared, settings, "elksxl", journal, False, None))
        accepted = len(sim.messages())
    print_outcome(result)
    out.print(f"the simulator accepted {accepted} messages")
    print_results(result.written_to, prepared.table.sheet)


def print_results(path: Path, sheet: str) -> None:
    """The result columns of a written workbook, row by row."""
    table = read_table(path, sheet)
    wanted = ("Förnamn", "Telefon", "SMS status", "SMS id", "SMS parts", "SMS cost", "SMS error")
    columns = [c for c in wanted if c in table.header]
    index = [table.header.index(c) for c in columns]
    grid = RichTable(title=f"{path} (sheet {sheet!r})")
    grid.add_column("row", justify="right")
    for column in columns:
        grid.add_column(column.removeprefix("SMS "), overflow="fold")
    for row in table.rows:
        cells = [row.values[i] if i < len(row.values) else None for i in index]
        shown = ["" if c is None else format_value(c) for c in cells]
        if "SMS id" in columns and len(shown[columns.index("SMS id")]) > 12:
            shown[columns.index("SMS id")] = shown[columns.index("SMS id")][:11] + "…"
        grid.add_row(str(row.number), *shown)
    wide = Console(highlight=False, markup=False, width=max(out.width, 130))
    wide.print(grid)


def write_plan_json(streamed: StreamedPlan, stream: TextIO) -> None:
    """The plan as one JSON object, written as the rows are planned.

    Messages go out as they come; problems and duplicates (usually few) are kept until the
    end, followed by the totals. 100,000 rows never sit in memory at once.
    """
    tally = Tally(streamed.phone_column, streamed.prices.currency)
    kept: dict[str, list[dict[str, Any]]] = {"problems": [], "duplicates": []}
    stream.write('{"messages": [')
    count = 0
    for item in streamed.items:
        tally.add(item)
        if isinstance(item, Message):
            stream.write(("," if count else "") + "\n  " + json.dumps(item.to_dict(), **_JSON))
            count += 1
        elif isinstance(item, Problem):
            kept["problems"].append(item.to_dict())
        elif isinstance(item, Duplicate):
            kept["duplicates"].append(item.to_dict())
    stream.write("]")
    for name, rows in kept.items():
        stream.write(f', "{name}": [')
        stream.write(",".join("\n  " + json.dumps(row, **_JSON) for row in rows))
        stream.write("]")
    stream.write(", " + json.dumps(tally.totals(), **_JSON)[1:] + "\n")


_JSON: dict[str, Any] = {"ensure_ascii": False}


def print_plan(plan: Plan, source: str, sheet: str, *, shown: int = 5) -> None:
    currency = plan.currency or ""
    total = plan.estimated_cost
    cost = (
        f"{to_currency(total):.2f} {currency}"
        if total is not None
        else f"unknown ({plan.unpriced} without a price; {to_currency(plan.known_cost):.2f}"
        f" {currency} for the rest)"
    )
    summary = RichTable.grid(padding=(0, 2))
    summary.add_row("workbook", f"{source} (sheet {sheet!r})")
    summary.add_row("phone column", plan.phone_column)
    summary.add_row("rows", str(plan.rows))
    summary.add_row("recipients", str(len(plan.messages)))
    summary.add_row("SMS parts", str(plan.parts))
    summary.add_row("estimated cost", cost)
    summary.add_row("problems", str(len(plan.problems)))
    summary.add_row("duplicates", str(len(plan.duplicates)))
    summary.add_row("already sent", str(len(plan.already_sent)))
    out.print(summary)
    if plan.messages:
        table = RichTable(title=f"First {min(shown, len(plan.messages))} messages", show_lines=True)
        for column in ("row", "to", "text", "enc", "parts"):
            table.add_column(column, overflow="fold")
        for m in plan.messages[:shown]:
            enc = m.encoding if not m.ucs2_chars else f"{m.encoding} ({''.join(m.ucs2_chars)})"
            table.add_row(str(m.row), m.to, m.text, enc, str(m.parts))
        out.print(table)
    if plan.problems:
        table = RichTable(title="Rows that will not be sent")
        for column in ("row", "column", "value", "reason"):
            table.add_column(column, overflow="fold")
        for p in plan.problems[:20]:
            table.add_row(str(p.row), p.column, "" if p.value is None else str(p.value), p.reason)
        if len(plan.problems) > 20:
            table.caption = f"... and {len(plan.problems) - 20} more (use --json for all)"
        out.print(table)
    if plan.duplicates:
        rows = ", ".join(f"{d.row} (= row {d.first_row})" for d in plan.duplicates[:10])
        more = f" and {len(plan.duplicates) - 10} more" if len(plan.duplicates) > 10 else ""
        out.print(f"duplicates skipped: rows {rows}{more}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="elksxl", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
