"""The commands that start a service or write files: ``sim``, ``serve``, ``excel setup``, ``demo``.

Part of the command-line surface; ``cli.py`` registers them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from .campaign import Session, load_prices, read_template
from .cli_support import load_settings, run_send, translate_errors, wait_for_delivery
from .config import Secret, Settings
from .console import (
    err,
    out,
    print_prepared,
    print_results,
)
from .sheets import read_table

__all__ = ["demo_command", "excel_group", "serve_command", "sim_command"]


@click.command("sim")
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


@click.command("serve")
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


@click.group("excel")
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


@click.command("demo")
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
    # The simulator bills at the example prices, so the estimate can be checked against it;
    # one phone is switched off, so its delivery report says failed.
    scenario = Scenario.from_dict(
        {
            "prices": dict(prices.prices),
            "rate_per_minute": 0,
            "delivery": {"delivered_after_ms": 300, "failing_numbers": ["+46704567890"]},
        }
    )
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
            table = read_table(workbook)
            prepared = session.prepare(table, read_template(template), message_name=str(template))
            print_prepared(prepared, str(workbook), 0, shown=3)
            out.print(f"\nsending through the 46elks simulator at {sim.base_url}")
            result = run_send(session, prepared, workbook, "elksxl", False, None)
            wait_for_delivery(session, table, result, 30, interval=1.0)
        accepted = len(sim.messages())
    out.print(f"the simulator accepted {accepted} messages")
    print_results(workbook, prepared.table.sheet)
