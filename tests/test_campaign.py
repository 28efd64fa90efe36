"""The Session writing into a real workbook file while it sends, as `elksxl send` runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from openpyxl import Workbook

from elksxl.campaign import Session
from elksxl.sheets import open_writer, read_table
from elksxl.simulator.testing import SimulatorHandle
from elksxl.table import STATUS_COLUMN


def contacts(path: Path, count: int) -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Namn", "Telefon"])
    for i in range(count):
        ws.append([f"Namn{i}", f"070-123 {i // 100:02d} {i % 100:02d}"])
    book.save(path)
    return path


def sent_rows(path: Path) -> int:
    table = read_table(path)
    index = table.column_index(STATUS_COLUMN)
    if index is None:
        return 0
    return sum(1 for row in table.rows if row.values[index] == "sent")


def test_results_are_saved_into_the_workbook_while_a_long_run_goes_on(
    simulator_factory: object, tmp_path: Path
) -> None:
    sim: SimulatorHandle = simulator_factory({"rate_per_minute": 0})  # type: ignore[operator]
    book = contacts(tmp_path / "book.xlsx", 12)
    # 10 a second: the run takes over a second, with a save every 0.2 s.
    settings = sim.settings(journal_path=tmp_path / "journal.sqlite3", rate_per_minute=600)
    seen_during_run: list[int] = []

    async def run(session: Session) -> int:
        table = read_table(book)
        prepared = session.prepare(table, "Hej {{ Namn }}")
        sending = asyncio.create_task(
            session.send(prepared, open_writer(book, table), sender="Elksxl")
        )
        while not sending.done():
            await asyncio.sleep(0.1)
            seen_during_run.append(sent_rows(book))
        result = await sending
        return result.summary.counts["sent"]

    with Session(settings, save_every=0.2) as session:
        assert asyncio.run(run(session)) == 12
    assert any(0 < seen < 12 for seen in seen_during_run), seen_during_run
    assert sent_rows(book) == 12
    assert read_table(book).campaign_id is not None
