"""`elksxl send` on bad input: exit 2, one message naming what is wrong, nothing sent or changed.

Each case runs the real command in a subprocess against a running simulator, so "nothing
sent" is checked where it would happen, and compares the workbook's bytes before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from elksxl.simulator.testing import SimulatorHandle, running_simulator
from workbooks import Books


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    """One simulator for the module: no case may send anything to it."""
    with running_simulator({"rate_per_minute": 0}) as handle:
        yield handle
        assert handle.messages() == []


def _book(path: Path, rows: list[list[Any]], sheet: str = "Kontakter") -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def _contacts(path: Path) -> Path:
    return _book(path, [["Namn", "Telefon"], ["Anna", "070-123 45 67"], ["Bo", "070-123 45 68"]])


# Each case: tmp folder -> (workbook, extra arguments, environment changes, expected texts).
Case = tuple[Path, list[str], dict[str, str | None], list[str]]


def _missing_file(tmp: Path) -> Case:
    return tmp / "saknas.xlsx", [], {}, ["saknas.xlsx", "not found"]


def _text_named_xlsx(tmp: Path) -> Case:
    path = tmp / "kontakter.xlsx"
    path.write_text("Namn;Telefon\nAnna;0701234567\n", encoding="utf-8")
    return path, [], {}, ["kontakter.xlsx", "text file", "save it as"]


def _old_xls(tmp: Path) -> Case:
    path = Books.compound_file(tmp / "gammal.xls", ["Workbook"])
    return path, [], {}, ["gammal.xls", ".xls", "save it as Excel Workbook (.xlsx)"]


def _password(tmp: Path) -> Case:
    path = Books.compound_file(tmp / "lösen.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    return path, [], {}, ["lösen.xlsx", "password", "Remove the password"]


def _truncated(tmp: Path) -> Case:
    path = _contacts(tmp / "trasig.xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, [], {}, ["trasig.xlsx", "damaged", "repair"]


def _empty_sheet(tmp: Path) -> Case:
    return _book(tmp / "tom.xlsx", [], sheet="Blad1"), [], {}, ["tom.xlsx", "Blad1", "empty"]


def _no_header(tmp: Path) -> Case:
    path = _book(tmp / "utan.xlsx", [["Anna", "070-123 45 67"], ["Bo", "070-123 45 68"]])
    return path, [], {}, ["utan.xlsx", "Kontakter", "row 1", "header row"]


def _two_columns_same_header(tmp: Path) -> Case:
    path = _book(tmp / "dubbel.xlsx", [["Namn", "Telefon", "Namn"], ["Anna", "0701234567", "A"]])
    return path, [], {}, ["dubbel.xlsx", "Kontakter", "A1", "C1", "rename one"]


def _unknown_sheet(tmp: Path) -> Case:
    path = _contacts(tmp / "book.xlsx")
    return path, ["--sheet", "Kunder"], {}, ["book.xlsx", "'Kunder'", "'Kontakter'"]


def _unknown_column(tmp: Path) -> Case:
    path = _contacts(tmp / "book.xlsx")
    return path, ["--phone-column", "Mobil"], {}, ["book.xlsx", "'Mobil'", "'Telefon'"]


def _unknown_placeholder(tmp: Path) -> Case:
    path = _contacts(tmp / "book.xlsx")
    return path, ["--message", "Hej {{ Förnamn }}"], {}, ["Förnamn", "'Namn'"]


def _template_syntax(tmp: Path) -> Case:
    path = _contacts(tmp / "book.xlsx")
    return path, ["--message", "Hej {{ Namn "], {}, ["line 1"]


def _template_file_syntax(tmp: Path) -> Case:
    path = _contacts(tmp / "book.xlsx")
    template = tmp / "mall.txt"
    template.write_text("Hej {{ Namn }}!\nVälkommen {% if %}\n", encoding="utf-8")
    return path, ["--template", str(template)], {}, ["mall.txt", "line 2"]


def _bad_sender(tmp: Path) -> Case:
    return _contacts(tmp / "book.xlsx"), ["--from", "1abc"], {}, ["1abc", "sender"]


def _no_sender(tmp: Path) -> Case:
    return _contacts(tmp / "book.xlsx"), [], {"ELKS_FROM": None}, ["--from", "ELKS_FROM"]


def _no_username(tmp: Path) -> Case:
    return _contacts(tmp / "book.xlsx"), [], {"ELKS_USERNAME": None}, ["ELKS_USERNAME"]


CASES: dict[str, Callable[[Path], Case]] = {
    "missing file": _missing_file,
    "text file named .xlsx": _text_named_xlsx,
    "old .xls": _old_xls,
    "password-protected": _password,
    "truncated .xlsx": _truncated,
    "empty sheet": _empty_sheet,
    "no header row": _no_header,
    "two columns with one header": _two_columns_same_header,
    "unknown sheet": _unknown_sheet,
    "unknown phone column": _unknown_column,
    "unknown placeholder": _unknown_placeholder,
    "template syntax": _template_syntax,
    "template file syntax": _template_file_syntax,
    "invalid sender": _bad_sender,
    "no sender": _no_sender,
    "no credentials": _no_username,
}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_naming_the_problem_and_changes_nothing(
    case: str, sim: SimulatorHandle, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    book, args, changes, expected = CASES[case](folder)
    if "--message" not in args and "--template" not in args:
        args = [*args, "--message", "Hej {{ Namn }}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELKS_", "ELKSXL_"))}
    env.update(sim.env(), ELKS_FROM="Elksxl", ELKSXL_JOURNAL=str(tmp_path / "journal.sqlite3"))
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    before = _files(folder)

    result = subprocess.run(
        [sys.executable, "-m", "elksxl", "send", str(book), "--yes", "--rate", "0", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert _files(folder) == before  # the workbook's bytes, and no new file beside it
    assert sim.messages() == []
