"""What the command line shows: plans, progress, outcomes, status and result tables.

Part of the CLI surface (with ``cli.py``): every value from a sheet or from 46elks is printed
as text, never as console markup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from .campaign import CampaignStatus, Notice, Prepared, SendResult, StreamedPlan
from .plan import Duplicate, Message, Plan, Problem, Tally
from .pricing import to_currency
from .sheets import read_table
from .table import Table
from .templating import format_value

if TYPE_CHECKING:
    from .campaign import Progress as SendProgress

__all__ = [
    "ProgressDisplay",
    "err",
    "out",
    "print_outcome",
    "print_plan",
    "print_prepared",
    "print_results",
    "print_status",
    "write_plan_json",
]

# No markup by default: messages, file names and cell values are printed as they are ("[ja]" is
# text, "[/nej]" no error); the few styled prefixes ask for markup and escape what they wrap.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def print_prepared(prepared: Prepared, source: str, rate: float, *, shown: int = 5) -> None:
    """The plan, then what must be said about the campaign before anything is sent."""
    print_plan(prepared.plan, prepared.table, source, rate, shown=shown)
    hints = {Notice.MESSAGE_CHANGED: " (--new-campaign)"}
    for notice, text in zip(prepared.notices, prepared.notice_texts(), strict=True):
        text += hints.get(notice, "")
        err.print(f"[bold yellow]note:[/] {escape(text)}", markup=True)


def print_plan(plan: Plan, table: Table, source: str, rate: float, *, shown: int = 5) -> None:
    """Everything a person should know before anything is sent."""
    summary = RichTable.grid(padding=(0, 2))
    summary.add_row(
        "workbook", f"{source} (sheet {table.sheet!r}, header in row {table.header_row})"
    )
    phone = plan.phone_column
    if plan.other_phone_columns:
        others = ", ".join(repr(c) for c in plan.other_phone_columns)
        phone += f" (also found: {others}; choose with --phone-column)"
    summary.add_row("phone column", phone)
    rows = str(plan.rows)
    if table.hidden_rows:
        rows += f" ({table.hidden_rows} hidden rows left out; --include-hidden sends to them)"
    summary.add_row("rows", rows)
    summary.add_row("recipients", str(len(plan.messages)))
    summary.add_row("SMS parts", str(plan.parts))
    summary.add_row("estimated cost", _cost(plan))
    summary.add_row("time to send", _duration(plan.duration(rate)) if plan.messages else "-")
    summary.add_row("problems", str(len(plan.problems)))
    summary.add_row("duplicates", str(len(plan.duplicates)))
    summary.add_row("already sent", str(len(plan.already_sent)))
    out.print(summary)
    if plan.messages:
        _print_messages(plan, shown)
    _print_costs(plan)
    values = {p.row: p.value for p in plan.problems if p.value not in (None, "")}
    for group in plan.problem_groups():
        listed = [f"{r} ({values[r]})" if r in values else str(r) for r in group.rows]
        out.print(f"not sent, {group.reason}: rows {_rows(listed)}")
    if plan.duplicates:
        rows = ", ".join(f"{d.row} (= row {d.first_row})" for d in plan.duplicates)
        out.print(f"duplicates skipped (same number and same text): rows {rows}")
    for shared in plan.shared_numbers:
        out.print(
            f"{shared.to} gets {len(shared.rows)} different messages (rows {_rows(shared.rows)});"
            " --one-per-number sends only the first"
        )


def _cost(plan: Plan) -> str:
    currency = plan.currency or ""
    if plan.estimated_cost is not None:
        return f"{to_currency(plan.estimated_cost):.2f} {currency}"
    return (
        f"unknown ({plan.unpriced} without a price; {to_currency(plan.known_cost):.2f}"
        f" {currency} for the rest)"
    )


def _print_messages(plan: Plan, shown: int) -> None:
    table = RichTable(title=f"First {min(shown, len(plan.messages))} messages", show_lines=True)
    for column in ("row", "to", "text", "enc", "parts"):
        table.add_column(column, overflow="fold")
    for m in plan.messages[:shown]:
        enc = m.encoding if not m.ucs2_chars else f"{m.encoding} ({''.join(m.ucs2_chars)})"
        table.add_row(str(m.row), m.to, m.text, enc, str(m.parts))
    out.print(table)
    ucs2 = plan.ucs2_rows
    if ucs2:
        out.print(
            f"{_count(len(ucs2), 'message needs', 'messages need')} UCS-2 (70 characters a "
            f"part instead of 160): rows {_rows(ucs2, 10)}; --smart-encoding replaces "
            "look-alike characters"
        )


def _print_costs(plan: Plan) -> None:
    countries = plan.countries()
    if len(countries) > 1 or plan.unpriced_rows:
        for c in countries:
            cost = "unknown" if c.cost is None else f"{to_currency(c.cost):.2f} {plan.currency}"
            amount = f"{_count(c.messages, 'message')}, {_count(c.parts, 'part')}"
            out.print(f"  to {c.country}: {amount}, {cost}")
    if plan.unpriced_rows:
        out.print(
            f"no price for rows {_rows(plan.unpriced_rows)}: pass --prices with their "
            "destinations, or check with send --dry-run"
        )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _rows(rows: Sequence[int | str], limit: int = 50) -> str:
    text = ", ".join(str(r) for r in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} min"
    return f"about {minutes / 60:.1f} h"


def write_plan_json(streamed: StreamedPlan, stream: TextIO) -> None:
    """The plan as one JSON object, written as the rows are planned.

    Messages go out as they come; problems and duplicates (usually few) are kept until the
    end, followed by the totals. 100,000 rows never sit in memory at once.
    """
    phone = streamed.phone
    tally = Tally(
        phone.label,
        streamed.prices.currency,
        phone_columns=phone.headers,
        other_phone_columns=phone.others,
    )
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


def print_outcome(result: SendResult) -> None:
    summary = result.summary
    table = RichTable(title="Result")
    table.add_column("status")
    table.add_column("messages", justify="right")
    for state, count in summary.counts.items():
        if count:
            table.add_row(state.value.replace("_", " "), str(count))
    out.print(table)
    out.print(f"cost: {to_currency(summary.cost):.2f} {result.currency or ''}".rstrip())
    if summary.stopped is not None:
        err.print(f"[bold red]stopped:[/] {escape(str(summary.stopped))}", markup=True)
    if summary.cancelled:
        out.print("cancelled: run the same command again to send the rest")


def print_status(status: CampaignStatus, title: str) -> None:
    summary = RichTable(title=title)
    summary.add_column("status")
    summary.add_column("rows", justify="right")
    for word, count in sorted(status.counts.items()):
        summary.add_row(word, str(count))
    out.print(summary)
    out.print(f"cost: {to_currency(status.cost):.2f} {status.currency or ''}".rstrip())


def print_results(path: Path, sheet: str) -> None:
    """The result columns of a written workbook, row by row."""
    table = read_table(path, sheet)
    wanted = (
        "Förnamn",
        "Telefon",
        "SMS status",
        "SMS id",
        "SMS parts",
        "SMS cost",
        "SMS error",
        "SMS delivered at",
    )
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
