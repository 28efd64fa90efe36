"""The command line: option parsing, the prompt, signals and exit codes over the campaign Session.

Exit codes: 0 all planned messages sent (or nothing to do, or the user said no); 1 some rows
failed, were not sent or are unknown; 2 bad usage or unreadable input (nothing sent); 3
stopped (out of credits, authentication, an unusable journal).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from . import __version__
from .campaign import Outcome, Prepared, SendResult, Session, load_prices, read_template
from .config import Secret, Settings
from .console import (
    ProgressDisplay,
    err,
    out,
    print_outcome,
    print_prepared,
    print_results,
    print_status,
    write_plan_json,
)
from .errors import ElksxlError, InputError, JournalError, StopCampaignError
from .plan import PlanOptions
from .pricing import to_currency
from .sheets import open_writer, read_table, stream_table
from .sheets.files import results_path
from .table import Row, Table

__all__ = ["main"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])


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
        except (StopCampaignError, JournalError) as exc:
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
            "--table",
            "excel_table",
            help="Excel table to read when the sheet holds several (default: the only one).",
        ),
        click.option(
            "--header-row",
            type=click.IntRange(min=1),
            help="Excel row of the header (default: found above the data, titles skipped).",
        ),
        click.option(
            "--include-hidden",
            is_flag=True,
            help="Also send to rows hidden by a filter or by hand (left out by default).",
        ),
        click.option(
            "--phone-column",
            "phone_columns",
            multiple=True,
            help="Header of the column with the numbers (default: found by header or content). "
            "Give it again for a second column: the first non-empty one is used per row.",
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
            help="Country for numbers written without a country code (ISO code, e.g. SE, NO, "
            "GB). Default: ELKSXL_REGION or SE.",
        ),
        click.option(
            "--mobile-only", is_flag=True, help="Treat numbers that are not mobile as problems."
        ),
        click.option(
            "--allow-landlines",
            is_flag=True,
            help="Send to numbers known to be landlines too (they usually cannot receive SMS).",
        ),
        click.option(
            "--one-per-number",
            is_flag=True,
            help="One message per number, even when rows sharing it would get different texts.",
        ),
        click.option(
            "--literal",
            is_flag=True,
            help="Send {Name}, [Name], %Name% and the like as written (not a placeholder error).",
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
        click.option(
            "--journal",
            "journal_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Journal file (default: ELKSXL_JOURNAL or the user's state directory).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def load_settings(**changes: object) -> Settings:
    """The environment, read once, with the command line's changes on top (checked)."""
    return Settings.from_env(os.environ).with_changes(**changes)


class Request:
    """What `plan` and `send` were asked: the workbook, the message and how to read the rows."""

    def __init__(
        self,
        workbook: Path,
        sheet: str | None,
        excel_table: str | None,
        header_row: int | None,
        include_hidden: bool,
        phone_columns: tuple[str, ...],
        template_path: Path | None,
        message: str | None,
        mobile_only: bool,
        allow_landlines: bool,
        one_per_number: bool,
        literal: bool,
        smart_encoding: bool,
    ) -> None:
        if template_path is None and message is None:
            raise click.UsageError("give --template FILE or --message TEXT")
        if template_path is not None and message is not None:
            raise click.UsageError("give either --template or --message, not both")
        self.workbook = workbook
        self.sheet = sheet
        self.excel_table = excel_table
        self.header_row = header_row
        self.include_hidden = include_hidden
        self.template_path = template_path
        self.message = read_template(template_path) if template_path else message or ""
        self.message_name = str(template_path) if template_path else "message"
        self.options = {
            "phone_columns": phone_columns,
            "mobile_only": mobile_only,
            "allow_landlines": allow_landlines,
            "one_per_number": one_per_number,
            "literal": literal,
            "smart_encoding": smart_encoding,
        }

    def plan_options(self, session: Session) -> PlanOptions:
        return session.options(**self.options)

    def table(self) -> Table:
        """The sheet, with the campaign id of its results file when only that file has one."""
        table = read_table(
            self.workbook,
            self.sheet,
            table=self.excel_table,
            header_row=self.header_row,
            include_hidden=self.include_hidden,
        )
        return with_results_file_campaign(self.workbook, table)

    def stream(self) -> contextlib.AbstractContextManager[tuple[Table, Iterator[Row]]]:
        return stream_table(
            self.workbook,
            self.sheet,
            table=self.excel_table,
            header_row=self.header_row,
            include_hidden=self.include_hidden,
        )

    def prepare(self, session: Session, *, new_campaign: bool = False) -> Prepared:
        return session.prepare(
            self.table(),
            self.message,
            self.plan_options(session),
            message_name=self.message_name,
            new_campaign=new_campaign,
        )


def with_results_file_campaign(workbook: Path, table: Table) -> Table:
    """When the workbook was open in Excel, the campaign id went to NAME.results.xlsx with the
    results; a later run on the workbook itself belongs to that campaign, not a new one."""
    if table.campaign_id is not None:
        return table
    beside = results_path(workbook, workbook.parent)
    if not beside.is_file():
        return table
    with contextlib.suppress(ElksxlError):
        found = read_table(beside, table.sheet).campaign_id
        if found is not None:
            err.print(f"note: continuing the campaign whose results are in {beside}")
            return replace(table, campaign_id=found)
    return table


def split_request(kwargs: dict[str, Any]) -> tuple[Request, dict[str, Any]]:
    """The Request, and the settings changes (region, prices, journal) from the options."""
    changes = {
        "region": kwargs.pop("region"),
        "prices_path": kwargs.pop("prices_path"),
        "journal_path": kwargs.pop("journal_path"),
    }
    return Request(**kwargs), changes


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
    request, changes = split_request(kwargs)
    with Session(load_settings(**changes)) as session:
        if as_json:
            with request.stream() as (table, rows):
                table = with_results_file_campaign(request.workbook, table)
                streamed = session.stream_plan(
                    table,
                    rows,
                    request.message,
                    request.plan_options(session),
                    message_name=request.message_name,
                )
                write_plan_json(streamed, sys.stdout)
        else:
            rate = session.settings.rate_per_minute
            print_prepared(request.prepare(session), str(request.workbook), rate)


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
    "--rate",
    type=float,
    help="Messages per minute, 0 or more (default: ELKSXL_RATE or 100; 0: no limit).",
)
@click.option("--flash", is_flag=True, help="Send as flash SMS (shown at once, not stored).")
@click.option("--dry-run", is_flag=True, help="Ask 46elks for exact parts and cost; send nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Send even if the estimate exceeds the balance.")
@click.option(
    "--new-campaign",
    is_flag=True,
    help="Start a new campaign in this workbook: every valid row gets the message, rows "
    "marked sent included.",
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
    new_campaign: bool,
    whendelivered: str | None,
    **kwargs: Any,
) -> None:
    """Send the campaign: plan, confirm, send through the journal, write results into the workbook.

    Running it again resumes: rows already sent are skipped, uncertain ones are reconciled.
    """
    request, changes = split_request(kwargs)
    with Session(load_settings(rate_per_minute=rate, **changes)) as session:
        session.settings.require_credentials()
        sender = session.require_sender(sender)
        prepared = request.prepare(session, new_campaign=new_campaign)
        print_prepared(prepared, str(request.workbook), session.settings.rate_per_minute)
        account = asyncio.run(session.account())
        out.print(
            f"46elks account {account.name!r}: balance {to_currency(account.balance):.2f} "
            f"{account.currency}"
        )
        if dry_run:
            priced = asyncio.run(session.dry_run(prepared, sender=sender))
            out.print(
                f"dry run: {priced.messages} messages, {priced.parts} parts, "
                f"{to_currency(priced.estimated_cost):.2f} {account.currency} according to 46elks"
            )
            for row, reason in priced.rejected:
                out.print(f"  row {row}: 46elks would refuse it: {reason}")
            out.print("nothing was sent and the workbook was not changed")
            return
        out.print(session.check_balance(prepared, account, force=force))
        if not prepared.plan.messages and not prepared.recorded:
            out.print("nothing to send; the workbook was not changed")
            return
        count = len(prepared.plan.messages)
        if count and not yes and not confirm(f"Send {count} SMS now?"):
            out.print("nothing sent")
            return
        result = run_send(session, prepared, request.workbook, sender, flash, whendelivered)
    sys.exit(outcome_exit_code(result))


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise Failure("no terminal to confirm on: pass --yes to send", EXIT_USAGE)
    return click.confirm(question, default=False, err=True)


def run_send(
    session: Session,
    prepared: Prepared,
    workbook: Path,
    sender: str,
    flash: bool,
    whendelivered: str | None,
) -> SendResult:
    """Send with a progress display and Ctrl-C handling; print where the results went."""
    writer = open_writer(workbook, prepared.table)
    plan = prepared.plan
    with ProgressDisplay(len(plan.messages), plan.currency or "") as display:
        result = asyncio.run(
            _send(session, prepared, writer, sender, flash, whendelivered, display)
        )
    print_outcome(result)
    # The writer decides where results go when it saves (a lock file may appear mid-run).
    if writer.fallback_reason is not None:
        err.print(
            f"{workbook} was not changed: {writer.fallback_reason}; "
            f"the results are in {writer.target}"
        )
    for warning in writer.warnings:
        err.print(f"note: {warning}")
    out.print(f"results written to {writer.target}")
    return result


async def _send(
    session: Session,
    prepared: Prepared,
    writer: Any,
    sender: str,
    flash: bool,
    whendelivered: str | None,
    display: ProgressDisplay,
) -> SendResult:
    cancel = asyncio.Event()

    def interrupt() -> None:
        if cancel.is_set():
            os._exit(130)  # second Ctrl-C: the journal already holds every attempt
        err.print("cancelling: letting messages in flight finish (Ctrl-C again to quit now)")
        cancel.set()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
        loop.add_signal_handler(signal.SIGTERM, interrupt)
    return await session.send(
        prepared,
        writer,
        sender=sender,
        flash=flash,
        whendelivered=whendelivered,
        on_progress=display.update,
        cancel=cancel,
    )


def outcome_exit_code(result: SendResult) -> int:
    return {Outcome.COMPLETE: EXIT_OK, Outcome.STOPPED: EXIT_STOPPED}.get(
        result.outcome, EXIT_PARTIAL
    )


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
    table = with_results_file_campaign(workbook, read_table(workbook, sheet))
    with Session(load_settings(journal_path=journal_path)) as session:
        writer = open_writer(workbook, table)  # saved only for a workbook with a campaign
        status = session.status(table, writer)
    print_status(status, f"{workbook} (sheet {table.sheet!r})")
    out.print(f"written to {writer.target}")


@cli.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (local only)."
)
@click.option("--port", default=8443, show_default=True, type=int)
@click.option(
    "--public-url",
    help="The https origin Excel and 46elks reach this server at (default: ELKSXL_PUBLIC_URL); "
    "the manifest and delivery-report URLs are made for it.",
)
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False), help="TLS certificate.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False), help="TLS private key.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Journal file (default: ELKSXL_JOURNAL or the user's state directory).",
)
@translate_errors
def serve_command(
    host: str,
    port: int,
    public_url: str | None,
    cert: Path | None,
    key: Path | None,
    journal_path: Path | None,
) -> None:
    """Run the Excel add-in's backend: task pane, manifest, API and delivery-report webhooks.

    Needs ELKSXL_TOKEN (the access token people type into the task pane) and the 46elks
    credentials. Binds 127.0.0.1 unless told otherwise.
    """
    from .server import serve

    settings = load_settings(journal_path=journal_path)
    settings.require_credentials()

    def ready(url: str) -> None:
        manifest = (public_url or settings.public_url or url).rstrip("/") + "/manifest.xml"
        err.print(f"elksxl add-in backend on {url} (Ctrl-C to stop); manifest: {manifest}")

    serve(settings, host, port, cert, key, public_url, on_ready=ready)


@cli.group("excel")
def excel_group() -> None:
    """Desktop Excel through xlwings: worksheet functions and an SMS ribbon (no server)."""


@excel_group.command("setup")
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False), default=Path("elksxl-excel")
)
@click.option("--overwrite", is_flag=True, help="Replace files already in the folder.")
@translate_errors
def excel_setup_command(folder: Path, overwrite: bool) -> None:
    """Write the SMS ribbon workbook, the VBA module and the install steps into FOLDER."""
    from .excel_setup import write_setup

    for path in write_setup(folder, overwrite=overwrite):
        out.print(f"wrote {path}")
    out.print(f"next: follow {folder / 'INSTALL.md'} (Windows and Mac)")


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
    template = templates_dir / template_name
    prices = load_prices(None)
    # The simulator bills at the example prices, so the estimate can be checked against it.
    scenario = Scenario.from_dict({"prices": dict(prices.prices), "rate_per_minute": 0})
    with running_simulator(scenario) as sim:
        account = scenario.accounts[0]
        settings = Settings(
            username=account.username,
            password=Secret(account.password),
            api_urls=(sim.base_url,),
            rate_per_minute=0,
            journal_path=journal_path,
        )
        with Session(settings) as session:
            # A landline in the list shows up as a problem.
            options = session.options(mobile_only=True)
            table = read_table(workbook)
            prepared = session.prepare(
                table, read_template(template), options, message_name=str(template)
            )
            print_prepared(prepared, str(workbook), 0, shown=3)
            out.print(f"\nsending through the 46elks simulator at {sim.base_url}")
            run_send(session, prepared, workbook, "elksxl", False, None)
        accepted = len(sim.messages())
    out.print(f"the simulator accepted {accepted} messages")
    print_results(workbook, prepared.table.sheet)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="elksxl", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
