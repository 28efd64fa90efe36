"""What the command's commands share: reading the request and the settings, turning errors
into exit codes, and running a send with a progress display, Ctrl-C and delivery waiting.

Part of the command-line surface (with ``cli.py``, ``cli_services.py`` and ``console.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from .campaign import Outcome, Prepared, SendResult, Session, read_template
from .config import Settings
from .console import (
    ProgressDisplay,
    err,
    out,
    print_outcome,
    print_status,
)
from .errors import ElksxlError, InputError, JournalError, StopCampaignError
from .plan import PlanOptions
from .sheets import open_writer, read_table, stream_table
from .sheets.files import results_path
from .table import Row, Table

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


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``10m`` or ``2h``; UsageError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    scale = units.get(value[-1:], 1) if value else 1
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * scale
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise click.UsageError(f"--wait-for-delivery: {text!r} is not a duration such as 10m")
    return seconds


def wait_for_delivery(
    session: Session, table: Table, result: SendResult, within: float, interval: float = 15.0
) -> None:
    """Poll 46elks for delivery reports, then write them into the workbook."""
    err.print(f"waiting up to {within:.0f} s for delivery reports (Ctrl-C stops waiting)")

    def progress(final: int, total: int) -> None:
        err.print(f"delivery reports: {final}/{total}")

    try:
        left = asyncio.run(
            session.wait_for_delivery(
                result.campaign_id, within, interval=interval, on_progress=progress
            )
        )
    except KeyboardInterrupt:
        left = -1
    table = replace(table, campaign_id=result.campaign_id)
    writer = open_writer(Path(table.source), table)
    status = session.status(table, writer)
    print_status(status, f"{writer.target} (sheet {table.sheet!r})")
    if left > 0:
        out.print(f"{left} messages have no delivery report yet: elksxl status --refresh later")


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
