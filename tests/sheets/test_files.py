"""Workbook files on disk: atomic saves (also under kill -9), lock files, column letters."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from elksxl.sheets import read_table
from elksxl.sheets.files import atomic_save, column_letter, lock_file

if TYPE_CHECKING:
    from conftest import Books


def test_failed_write_leaves_the_target_untouched_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")

    def half_then_fail(f: IO[bytes]) -> None:
        f.write(b"new but incomplete")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_save(half_then_fail, target, mode=0o644)

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_atomic_save_writes_the_bytes_with_the_given_mode(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"

    def content(f: IO[bytes]) -> None:
        f.write(b"content")

    atomic_save(content, target, mode=0o640)

    assert target.read_bytes() == b"content"
    assert target.stat().st_mode & 0o777 == 0o640


def test_lock_files_of_excel_and_libreoffice_are_found(tmp_path: Path) -> None:
    path = tmp_path / "Kunder maj.xlsx"
    assert lock_file(path) is None

    (tmp_path / "~$Kunder maj.xlsx").write_bytes(b"")
    assert lock_file(path) == tmp_path / "~$Kunder maj.xlsx"

    (tmp_path / "~$Kunder maj.xlsx").unlink()
    (tmp_path / ".~lock.Kunder maj.xlsx#").write_bytes(b"")
    assert lock_file(path) == tmp_path / ".~lock.Kunder maj.xlsx#"


@pytest.mark.parametrize(("number", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (16384, "XFD")])
def test_column_letters(number: int, letters: str) -> None:
    assert column_letter(number) == letters


_SAVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from elksxl import sheets
    from elksxl.sheets import RowResult, read_table

    path = Path(sys.argv[1])
    table = read_table(path)
    writer = getattr(sheets, sys.argv[2])(path, table)
    round = 0
    while True:
        round += 1
        for row in table.rows:
            writer.set(row.number, RowResult(status="sent", sms_id=f"s{round}"))
        writer.save()
        print(round, flush=True)
    """
)


@pytest.mark.parametrize("writer", ["ResultWriter", "XmlResultWriter"])
def test_a_run_killed_while_saving_leaves_a_whole_workbook(books: Books, writer: str) -> None:
    path = books.contacts(rows=1500)
    rng = random.Random(46)

    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path), writer], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        child.stdout.readline()  # saving in a loop now
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

        table = read_table(path)
        ids = {row.values[3] for row in table.rows}
        assert len(ids) == 1  # one save's results, never a mix of two
        load_workbook(path).close()
    leftovers = {p.name for p in path.parent.iterdir()} - {path.name}
    assert all(name.startswith("book.tmp-") for name in leftovers)
