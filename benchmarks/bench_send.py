"""The whole `send` of a 100,000-row messy workbook, no rate limit, local simulator (issue 5).

The simulator runs in its own process. The campaign runs in a dedicated child process (so its
peak RSS is the run's alone) that calls the library the way `elksxl send` does and times the
phases: read (sheets.read_table), plan (Session.prepare), send (Session.send: journal,
limiter, client, without the write-back inside it) and write-back (the XML result writer
that open_writer picks: open, set every row, save, including the save of the campaign id
before the first message). It is set against a bare openpyxl load-and-save of the same
workbook (target: at most 1.3x). It also reports the time from the start of the send
(the user's "yes") to the first message 46elks accepted.

``ELKSXL_BENCH_ROWS`` overrides the row count for a quick run.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from elksxl.campaign import Session
from elksxl.config import Secret, Settings
from elksxl.sheets import RowResult, XmlResultWriter, read_table
from elksxl.simulator.testing import running_simulator_process

from .measure import messy_workbook, python, run_child

ROWS = int(os.environ.get("ELKSXL_BENCH_ROWS", "100000"))
TEMPLATE = (
    "Hej {{ Förnamn }}! Påminnelse: din tid är {{ Datum }}. Belopp att betala: {{ Belopp }} kr."
)
SCENARIO = {
    "rate_per_minute": 0,
    "accounts": [{"username": "sim", "password": "sim", "currency": "SEK", "balance": 10**15}],
}
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    source = messy_workbook(ROWS)
    with tempfile.TemporaryDirectory(prefix="elksxl-bench-send-") as tmp:
        folder = Path(tmp)
        book = folder / "contacts.xlsx"
        shutil.copyfile(source, book)
        report = folder / "phases.json"
        env = os.environ.copy()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with running_simulator_process(SCENARIO) as sim:
            child = [python(), "-m", "benchmarks.bench_send", "--child"]
            run = run_child([*child, str(book), sim.base_url, str(report)], env=env)
        phases = json.loads(report.read_text(encoding="utf-8"))
        bare = bare_openpyxl(source, folder / "bare.xlsx")
        # The same for the finished workbook: 7 more columns filled, so a bigger file to write.
        bare_done = bare_openpyxl(book, folder / "bare-done.xlsx")
    write = phases["load"] + phases["set"] + phases["save"]
    print(
        f"workbook: {ROWS} rows ({source}); {phases['messages']:.0f} messages sent, no rate limit"
    )
    print(f"{'phase':28}{'seconds':>10}")
    print(f"{'read (read_table)':28}{phases['read']:10.2f}")
    print(f"{'plan (compile + build)':28}{phases['plan']:10.2f}")
    rate = phases["messages"] / phases["send"] if phases["send"] else 0.0
    print(f"{'send (journal + HTTP)':28}{phases['send']:10.2f}  ({rate:.0f} msg/s)")
    print(
        f"{'write-back':28}{write:10.2f}  (load {phases['load']:.2f}, set {phases['set']:.2f}, "
        f"save {phases['save']:.2f})"
    )
    print(f"{'whole child process':28}{run.seconds:10.2f}")
    print(
        f"from the start of the send to the first SMS accepted: {phases['first_sms']:.2f} s "
        f"(of which saving the campaign id into the workbook: {phases['first_save']:.2f} s)"
    )
    print(
        f"bare openpyxl load + save of the same workbook: {bare:.2f} s; "
        f"write-back ratio {write / bare:.2f}x (target <= 1.3x)"
    )
    print(
        f"bare openpyxl load + save of the finished workbook (with the result columns): "
        f"{bare_done:.2f} s; write-back ratio to it {write / bare_done:.2f}x"
    )
    print(
        f"peak memory of the run: {run.peak_mib:.1f} MiB "
        f"(child's own ru_maxrss: {phases['maxrss_mib']:.1f} MiB)"
    )


def bare_openpyxl(source: Path, copy: Path) -> float:
    """Seconds for a plain openpyxl load_workbook + save of ``source``."""
    from openpyxl import load_workbook

    shutil.copyfile(source, copy)
    started = time.perf_counter()
    load_workbook(copy).save(copy)
    return time.perf_counter() - started


def child(book: Path, url: str, report: Path) -> None:
    """One whole campaign, phase by phase; the timings go to ``report`` as JSON."""
    phases = asyncio.run(_campaign(book, url))
    phases["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.write_text(json.dumps(phases), encoding="utf-8")


async def _campaign(book: Path, url: str) -> dict[str, float]:
    phases: dict[str, float] = {}
    started = time.perf_counter()
    table = read_table(book)
    phases["read"] = time.perf_counter() - started

    settings = Settings(
        username="sim",
        password=Secret("sim"),
        api_urls=(url,),
        rate_per_minute=0,
        sender="Bench",
        journal_path=book.with_name("journal.sqlite3"),
    )
    with Session(settings, save_every=10**9) as session:  # only the saves a send must make
        started = time.perf_counter()
        prepared = session.prepare(table, TEMPLATE)
        phases["plan"] = time.perf_counter() - started

        started = time.perf_counter()
        writer = TimedWriter(book, table)
        phases["load"] = time.perf_counter() - started

        first: list[float] = []
        first_save: list[float] = []

        def progress(p: Any) -> None:
            if not first and p.sent:
                first.append(time.perf_counter())
                first_save.append(writer.save_seconds)

        started = time.perf_counter()
        result = await session.send(prepared, writer, on_progress=progress)
        total = time.perf_counter() - started
    if result.summary.counts.get("sent", 0) != len(prepared.plan.messages):
        raise RuntimeError(f"not everything was sent: {dict(result.summary.counts)}")
    phases["set"], phases["save"] = writer.set_seconds, writer.save_seconds
    phases["send"] = total - writer.set_seconds - writer.save_seconds
    phases["messages"] = float(len(prepared.plan.messages))
    phases["first_sms"] = first[0] - started if first else float("nan")
    phases["first_save"] = first_save[0] if first_save else float("nan")
    return phases


class TimedWriter(XmlResultWriter):
    """The writer `elksxl send` uses for this workbook (open_writer picks the XML writer),
    adding up the time spent writing cells and saving."""

    set_seconds = 0.0
    save_seconds = 0.0

    def set(self, row: int, result: RowResult) -> None:
        started = time.perf_counter()
        super().set(row, result)
        self.set_seconds += time.perf_counter() - started

    def save(self) -> Path:
        started = time.perf_counter()
        try:
            return super().save()
        finally:
            self.save_seconds += time.perf_counter() - started


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    else:
        main()
