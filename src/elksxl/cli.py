"""The command line: option parsing, the prompt, signals and exit codes over the campaign Session.

Exit codes: 0 all planned messages sent (or nothing to do, or the user said no); 1 some rows
failed, were not sent or are unknown; 2 bad usage or unreadable input (nothing sent); 3
stopped (out of credits, authentication, an unusable journal).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .campaign import Outcome, Session
from .cli_services import demo_command, excel_group, serve_command, sim_command
from .cli_support import (
    confirm,
    load_settings,
    outcome_exit_code,
    parse_duration,
    plan_options,
    run_send,
    split_request,
    translate_errors,
    wait_for_delivery,
    with_results_file_campaign,
)
from .console import (
    err,
    out,
    print_prepared,
    print_status,
    write_plan_json,
)
from .pricing import to_currency
from .sheets import open_writer, read_table

__all__ = ["main"]


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
@click.option(
    "--whendelivered",
    help="URL 46elks should POST delivery reports to (default: elksxl serve's webhook when "
    "ELKSXL_PUBLIC_URL is set).",
)
@click.option(
    "--wait-for-delivery",
    "wait",
    is_flag=False,
    flag_value="10m",
    default=None,
    metavar="[DURATION]",
    help="After sending, ask 46elks until every message is delivered or failed, or DURATION "
    "(e.g. 90s, 10m, 2h; default 10m) has passed, and write the results.",
)
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
    wait: str | None,
    **kwargs: Any,
) -> None:
    """Send the campaign: plan, confirm, send through the journal, write results into the workbook.

    Running it again resumes: rows already sent are skipped, uncertain ones are reconciled.
    """
    request, changes = split_request(kwargs)
    waiting = None if wait is None else parse_duration(wait)
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
        if waiting is not None and result.outcome is not Outcome.STOPPED:
            wait_for_delivery(session, request.table(), result, waiting)
    sys.exit(outcome_exit_code(result))


@cli.command("status")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--sheet", help="Sheet of the campaign (default: the first sheet).")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Journal file (default: ELKSXL_JOURNAL or the user's state directory).",
)
@click.option(
    "--refresh",
    is_flag=True,
    help="First ask 46elks what became of every message still 'sent' (delivered or failed).",
)
@translate_errors
def status_command(
    workbook: Path, sheet: str | None, journal_path: Path | None, refresh: bool
) -> None:
    """Show a campaign's state from the journal and write it into the workbook."""
    table = with_results_file_campaign(workbook, read_table(workbook, sheet))
    with Session(load_settings(journal_path=journal_path)) as session:
        if refresh:
            session.settings.require_credentials()
            campaign = session.campaign_of(table)
            settled = asyncio.run(session.refresh(campaign))
            err.print(f"46elks reported {settled} new delivery results")
        writer = open_writer(workbook, table)  # saved only for a workbook with a campaign
        status = session.status(table, writer)
    print_status(status, f"{workbook} (sheet {table.sheet!r})")
    out.print(f"written to {writer.target}")


for command in (sim_command, serve_command, excel_group, demo_command):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="elksxl", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
