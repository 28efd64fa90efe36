"""`elksxl send` as a user runs it: a real subprocess, real workbooks, the simulator over HTTP.

Every test runs ``python -m elksxl send`` without a terminal against a simulator on 127.0.0.1
and then opens the workbook with openpyxl, as the user would open it in Excel.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from elksxl.encoding import analyze
from elksxl.sheets import read_table
from elksxl.simulator.testing import SimulatorHandle, wait_until
from elksxl.table import RESULT_COLUMNS
from workbooks import Books

FAST = {"rate_per_minute": 0}  # the simulator's own account rate would pace the tests
SENDER = "Elksxl"
HEADER = ["Namn", "Telefon", "Ort"]


# -- running the command --------------------------------------------------------------------


def environment(sim: SimulatorHandle, tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """The parent's environment without our variables, pointed at ``sim``; None removes one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELKS_", "ELKSXL_"))}
    env.update(sim.env())
    env["ELKSXL_JOURNAL"] = str(tmp_path / "journal.sqlite3")
    env["ELKS_FROM"] = SENDER
    env["NO_PROXY"] = "127.0.0.1"
    env["COLUMNS"] = "250"  # rich wraps tables at the width it is given
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def command(book: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "elksxl", "send", str(book), *args]


def send(
    sim: SimulatorHandle,
    tmp_path: Path,
    book: Path,
    *args: str,
    message: str = "Hej {{ Namn }}!",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`elksxl send BOOK --message MESSAGE ARGS`, no terminal, against ``sim``."""
    return subprocess.run(
        command(book, "--message", message, *args),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env or environment(sim, tmp_path),
        timeout=120,
    )


def number(i: int) -> str:
    return f"070-123 {i // 100:02d} {i % 100:02d}"


def e164(i: int) -> str:
    return f"+4670123{i // 100:02d}{i % 100:02d}"


def contacts(path: Path, count: int, extra: Iterable[list[Any]] = ()) -> Path:
    """Namn/Telefon/Ort with ``count`` valid recipients (rows 2..count+1), then ``extra`` rows."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(HEADER)
    for i in range(count):
        ws.append([f"Namn{i}", number(i), "Umeå"])
    for row in extra:
        ws.append(row)
    book.save(path)
    return path


# -- reading the results --------------------------------------------------------------------


def sheet_of(path: Path, name: str = "Kontakter") -> Worksheet:
    ws = load_workbook(path)[name]
    assert isinstance(ws, Worksheet)
    return ws


def result_columns(ws: Worksheet) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value in RESULT_COLUMNS}


def results(path: Path) -> dict[int, dict[str, Any]]:
    """Excel row -> result header -> value, for every row below the header."""
    ws = sheet_of(path)
    columns = result_columns(ws)
    return {
        row: {name: ws.cell(row, col).value for name, col in columns.items()}
        for row in range(2, ws.max_row + 1)
    }


def by_recipient(sim: SimulatorHandle) -> dict[str, dict[str, Any]]:
    messages = sim.messages()
    counts = Counter(m["to"] for m in messages)
    assert max(counts.values(), default=1) == 1, f"sent twice: {counts.most_common(3)}"
    return {m["to"]: m for m in messages}


def snapshot(path: Path, skip: dict[str, set[int]] | None = None) -> dict[tuple[str, str], Any]:
    """(sheet, cell) -> value, type, font, fill and number format of every non-empty or styled
    cell, leaving out the columns in ``skip`` (sheet -> column numbers)."""
    shot: dict[tuple[str, str], Any] = {}
    for ws in load_workbook(path).worksheets:
        left_out = (skip or {}).get(ws.title, set())
        for row in ws.iter_rows():
            for c in row:
                if c.column in left_out or (c.value is None and not c.has_style):
                    continue
                color = c.font.color.rgb if c.font.color is not None else None
                look = (c.value, c.data_type, c.font.b, c.font.i, color, c.fill.fgColor.rgb)
                shot[(ws.title, c.coordinate)] = (*look, c.number_format)
    return shot


# -- what is written ------------------------------------------------------------------------


def test_sent_invalid_and_duplicate_rows_get_their_results_at_the_right_end(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(
        tmp_path / "book.xlsx",
        4,
        # A duplicate is the same number and the same text: "Namn1" again, on number(1).
        [["Fel", "abc", "Umeå"], ["Namn1", number(1), "Luleå"], ["Formel", "=1+1", "Kiruna"]],
    )
    formula_like = load_workbook(book)
    cell = formula_like["Kontakter"]["B8"]
    cell.value, cell.data_type = "=1+1", "s"  # text that looks like a formula
    formula_like.save(book)

    result = send(sim, tmp_path, book, "--yes", "--rate", "0")

    assert result.returncode == 0, result.stderr
    ws = sheet_of(book)
    assert [c.value for c in ws[1]] == [*HEADER, *RESULT_COLUMNS]
    rows = results(book)
    accepted = by_recipient(sim)
    assert len(accepted) == 4
    for i in range(4):
        got, sms = rows[i + 2], accepted[e164(i)]
        assert got["SMS status"] == "sent"
        assert got["SMS id"] == sms["id"]
        assert got["SMS id"].startswith("s")
        assert got["SMS parts"] == sms["parts"] == 1
        assert got["SMS cost"] == pytest.approx(sms["cost"] / 10000)
        assert isinstance(got["SMS sent at"], datetime)
        assert not got["SMS error"]
        assert sms["message"] == f"Hej Namn{i}!"
        assert sms["from"] == SENDER
    assert rows[6]["SMS status"] == "invalid"
    assert "not a phone number" in rows[6]["SMS error"]
    assert rows[7]["SMS status"] == "duplicate"
    assert "row 3" in rows[7]["SMS error"]
    assert rows[8]["SMS status"] == "invalid"
    assert rows[8]["SMS error"]
    for row in (6, 7, 8):
        assert rows[row]["SMS id"] is None
        assert rows[row]["SMS sent at"] is None
    # Nothing in the sheet is a formula: not the user's "=1+1" text, not any result cell.
    assert ws["B8"].value == "=1+1"
    assert ws["B8"].data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert b"<f>" not in zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml")


def test_formatting_other_sheets_and_every_user_cell_are_kept(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Namn", "Telefon", "Datum", "Belopp", "Svar"])
    for i in range(5):
        ws.append([f"Namn{i}", number(i), date(2026, 12, i + 1), 100.5 * i, None])
    for c in ws[1]:
        c.font = Font(bold=True, color="FFFFFFFF")
        c.fill = PatternFill("solid", "FF1F4E78")
    for row in range(2, 7):
        ws.cell(row, 3).number_format = "dd/mm/yyyy"
        ws.cell(row, 4).number_format = "#,##0.00 kr"
    ws["A3"].fill = PatternFill("solid", "FFFFFF00")
    ws.column_dimensions["A"].width = 31
    ws.column_dimensions["B"].width = 17.5
    ws.freeze_panes = "A2"
    answers = DataValidation(type="list", formula1='"Ja,Nej"')
    ws.add_data_validation(answers)
    answers.add("E2:E6")
    summary = book.create_sheet("Summering")
    summary["A1"] = "Antal"
    summary["B1"] = "=COUNTA(Kontakter!A:A)-1"
    summary["B1"].font = Font(italic=True)
    summary.column_dimensions["A"].width = 40
    path = tmp_path / "book.xlsx"
    book.save(path)
    before = snapshot(path)
    assert len(before) == 27  # 5 headers, 5 rows of 4 cells, 2 on the other sheet

    result = send(sim, tmp_path, path, "--yes", "--rate", "0")

    assert result.returncode == 0, result.stderr
    after_book = load_workbook(path)
    assert after_book.sheetnames == ["Kontakter", "Summering"]
    ws = after_book["Kontakter"]
    added = set(result_columns(ws).values())
    assert added == set(range(6, 13))  # right of the user's five columns
    assert snapshot(path, skip={"Kontakter": added}) == before
    assert ws.column_dimensions["A"].width == 31
    assert ws.column_dimensions["B"].width == 17.5
    assert ws.freeze_panes == "A2"
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["E2:E6"]
    assert ws["C2"].number_format == "dd/mm/yyyy"
    assert after_book["Summering"]["B1"].value == "=COUNTA(Kontakter!A:A)-1"
    assert after_book["Summering"]["B1"].font.i
    assert after_book["Summering"].column_dimensions["A"].width == 40
    assert {r["SMS status"] for r in results(path).values()} == {"sent"}


def test_a_second_run_skips_the_rows_already_sent(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3, [["Namn0", number(0), "Umeå"]])  # a duplicate
    assert send(sim, tmp_path, book, "--yes", "--rate", "0").returncode == 0
    first = results(book)
    sent_before = [m["id"] for m in sim.messages()]
    assert len(sent_before) == 3

    again = send(sim, tmp_path, book, "--yes", "--rate", "0")

    assert again.returncode == 0, again.stderr
    assert [m["id"] for m in sim.messages()] == sent_before
    assert results(book) == first
    assert first[5]["SMS status"] == "duplicate"


def test_merged_cells_formula_values_and_very_long_cells_are_sent(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    long_text = ("Välkommen till årets stora kundträff i Umeå, med mat och musik. " * 20).strip()
    assert len(long_text) > 1000
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Namn", "Telefon", "Grupp", "Text"])
    ws.append(['=UPPER("anna")', number(0), "A", long_text])
    ws.append(["Bo", '="070-123"&" 00 01"', None, "Kort"])
    ws.append(["Cecilia", number(2), "B", "Kort"])
    ws.append([None, number(3), None, "Kort"])
    ws.merge_cells("C2:C3")  # a merged cell the template does not use
    ws.merge_cells("A4:A5")  # a merged cell it does: only A4 holds the name
    path = tmp_path / "book.xlsx"
    book.save(path)
    sheet_xml = "xl/worksheets/sheet1.xml"
    Books.patch_member(path, sheet_xml, lambda xml: Books.set_cached_value(xml, "A2", "ANNA"))
    Books.patch_member(
        path, sheet_xml, lambda xml: Books.set_cached_value(xml, "B3", "070-123 00 01", text=True)
    )

    result = send(sim, tmp_path, path, "--yes", "--rate", "0", message="{{ Namn }}: {{ Text }}")

    # Row 5 has no name: a problem row, not a failed message, so every planned one was sent.
    assert result.returncode == 0, result.stderr
    accepted = by_recipient(sim)
    expected = f"ANNA: {long_text}"
    parts = analyze(expected).parts
    assert parts == math.ceil(len(expected) / 153) > 7
    assert accepted[e164(0)]["message"] == expected
    assert accepted[e164(0)]["parts"] == parts
    assert accepted[e164(1)]["message"] == "Bo: Kort"
    assert accepted[e164(2)]["message"] == "Cecilia: Kort"
    assert e164(3) not in accepted
    rows = results(path)
    assert rows[2]["SMS status"] == "sent"
    assert rows[2]["SMS parts"] == parts
    assert rows[2]["SMS cost"] == pytest.approx(accepted[e164(0)]["cost"] / 10000)
    assert [rows[r]["SMS status"] for r in (3, 4, 5)] == ["sent", "sent", "invalid"]
    assert "Namn" in rows[5]["SMS error"]
    ws = sheet_of(path)
    assert ws["A2"].value == '=UPPER("anna")'  # formulas stay formulas
    assert ws["B3"].value == '="070-123"&" 00 01"'
    assert {str(r) for r in ws.merged_cells.ranges} == {"C2:C3", "A4:A5"}
    assert ws["D2"].value == long_text

    # openpyxl saved the file without cached formula values; a re-run still sends nothing twice.
    again = send(sim, tmp_path, path, "--yes", "--rate", "0", message="{{ Namn }}: {{ Text }}")
    assert again.returncode == 0, again.stderr
    assert len(sim.messages()) == 3
    assert [results(path)[r]["SMS status"] for r in (2, 3, 4, 5)] == [
        "sent",
        "sent",
        "sent",
        "invalid",
    ]


def test_square_brackets_in_messages_and_file_names_are_shown_and_sent_as_written(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "Kunder [final].xlsx", 2)
    message = "Hej {{ Namn }}! Svara [ja] eller [/nej]. [bold]Tack[/bold]"

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", message=message)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Hej Namn0! Svara [ja] eller [/nej]. [bold]Tack[/bold]" in result.stdout
    assert "results written to " + str(book) in result.stdout
    assert sorted(m["message"] for m in sim.messages()) == [
        f"Hej Namn{i}! Svara [ja] eller [/nej]. [bold]Tack[/bold]" for i in range(2)
    ]


# -- where results go -----------------------------------------------------------------------


def test_workbook_open_in_excel_gets_its_results_in_a_results_file(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "Kunder.xlsx", 3)
    (tmp_path / "~$Kunder.xlsx").write_bytes(b"\x05Excel user")
    original = book.read_bytes()
    env = environment(sim, tmp_path, ELKS_FROM=None)

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", "--from", "Kundtjanst", env=env)

    assert result.returncode == 0, result.stderr
    assert book.read_bytes() == original
    copy = tmp_path / "Kunder.results.xlsx"
    assert "open in Excel" in result.stderr
    assert "Kunder.results.xlsx" in result.stderr
    assert {r["SMS status"] for r in results(copy).values()} == {"sent"}
    assert [m["from"] for m in sim.messages()] == ["Kundtjanst"] * 3


def test_status_reports_the_journal_and_fills_in_a_workbook_that_missed_its_results(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "Kunder.xlsx", 3, extra=[["Ingen", "abc", "Umeå"]])
    lock = tmp_path / "~$Kunder.xlsx"
    lock.write_bytes(b"\x05Excel user")
    assert send(sim, tmp_path, book, "--yes", "--rate", "0").returncode == 0
    assert "SMS status" not in [c.value for c in sheet_of(book)[1]]  # Excel had it open
    lock.unlink()

    status = subprocess.run(
        [sys.executable, "-m", "elksxl", "status", str(book)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment(sim, tmp_path),
        timeout=120,
    )

    assert status.returncode == 0, status.stderr
    assert re.search(r"\bsent\W+3\b", status.stdout)
    assert "1.05" in status.stdout  # 3 x 0.35 SEK at the simulator's Swedish price
    written = results(book)
    ids = {m["to"]: m["id"] for m in sim.messages()}
    assert [written[row]["SMS status"] for row in (2, 3, 4)] == ["sent"] * 3
    assert [written[row]["SMS id"] for row in (2, 3, 4)] == [ids[e164(i)] for i in range(3)]
    assert len(sim.messages()) == 3  # status sends nothing


def test_rows_moved_before_the_results_were_written_are_not_sent_again(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "Kunder.xlsx", 3)
    lock = tmp_path / "~$Kunder.xlsx"
    lock.write_bytes(b"\x05Excel user")  # the first run's results never reach the workbook
    assert send(sim, tmp_path, book, "--yes", "--rate", "0").returncode == 0
    lock.unlink()
    first_ids = {m["to"]: m["id"] for m in sim.messages()}
    wb = load_workbook(book)
    ws = wb["Kontakter"]
    ws.insert_rows(2)  # someone adds a contact at the top: every earlier row moves down
    ws["A2"], ws["B2"], ws["C2"] = "Ny", number(99), "Luleå"
    wb.save(book)

    result = send(sim, tmp_path, book, "--yes", "--rate", "0")

    assert result.returncode == 0, result.stderr
    assert set(by_recipient(sim)) == {e164(i) for i in (0, 1, 2, 99)}  # each exactly once
    written = results(book)
    assert [written[row]["SMS id"] for row in (3, 4, 5)] == [first_ids[e164(i)] for i in range(3)]
    assert written[2]["SMS status"] == "sent"


# -- confirmation, dry run, money -----------------------------------------------------------


def test_without_a_terminal_and_without_yes_nothing_is_sent(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    original = book.read_bytes()

    result = send(sim, tmp_path, book, "--rate", "0")

    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert "Traceback" not in result.stderr
    assert sim.messages() == []
    assert book.read_bytes() == original


def test_dry_run_prints_totals_and_sends_and_writes_nothing(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 4, [["Lång", number(9), "x" * 160]])
    original = book.read_bytes()

    result = send(sim, tmp_path, book, "--dry-run", "--rate", "0", message="Hej {{ Ort }}")

    assert result.returncode == 0, result.stderr
    # Four 1-part messages and one of 164 characters in 2 parts, 0.35 SEK a part.
    assert "dry run: 5 messages, 6 parts, 2.10 SEK" in result.stdout
    assert "nothing was sent" in result.stdout
    assert sim.messages() == []
    assert book.read_bytes() == original


def _prices(tmp_path: Path, per_part: int) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"currency": "SEK", "example": False, "prices": {"46": per_part}}), "utf-8"
    )
    return path


def test_an_estimate_above_the_balance_is_refused_unless_forced(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    original = book.read_bytes()
    # Our estimate: 3 x 2.00 SEK; the balance covers what 46elks really charges (3 x 0.35).
    sim.set_balance(sim.username, 20000)
    prices = str(_prices(tmp_path, 20000))

    refused = send(sim, tmp_path, book, "--yes", "--rate", "0", "--prices", prices)

    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert "balance" in refused.stderr
    assert sim.messages() == []
    assert book.read_bytes() == original

    forced = send(sim, tmp_path, book, "--yes", "--rate", "0", "--prices", prices, "--force")

    assert forced.returncode == 0, forced.stderr
    assert len(sim.messages()) == 3


def test_out_of_credits_exits_3_and_says_so(simulator_factory: Any, tmp_path: Path) -> None:
    # What is sent and what a top-up resumes is the Session's (tests/test_session.py).
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 10)
    sim.set_balance(sim.username, 3 * 3500 + 1000)  # three 1-part messages to Sweden

    stopped = send(sim, tmp_path, book, "--yes", "--rate", "0", "--force")

    assert stopped.returncode == 3, stopped.stderr
    assert "stopped: the 46elks account cannot pay" in stopped.stderr
    assert Counter(r["SMS status"] for r in results(book).values()) == {"sent": 3, "not sent": 7}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--rate", "nan"], {}),
        (["--rate", "-5"], {}),
        ([], {"ELKSXL_RATE": "nan"}),
        ([], {"ELKSXL_RATE": "-1"}),
    ],
)
def test_a_rate_that_is_not_a_usable_number_is_refused_before_anything_happens(
    simulator_factory: Any, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    original = book.read_bytes()

    result = send(sim, tmp_path, book, "--yes", *args, env=environment(sim, tmp_path, **env))

    assert result.returncode == 2, result.stderr
    assert "messages per minute" in result.stderr
    assert "Traceback" not in result.stderr
    assert "recipients" not in result.stdout  # refused before the plan was even shown
    assert sim.stats()["requests"] == 0
    assert book.read_bytes() == original


def test_answering_no_at_the_prompt_sends_nothing_and_is_not_an_error(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    original = book.read_bytes()
    leader, follower = os.openpty()  # a terminal, as a person at the keyboard has
    try:
        run = subprocess.Popen(
            command(book, "--message", "Hej", "--rate", "0"),
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(sim, tmp_path),
        )
        os.write(leader, b"n\n")
        out, err = run.communicate(timeout=60)
    finally:
        os.close(leader)
        os.close(follower)

    assert run.returncode == 0, err
    assert "Send 3 SMS now?" in err
    assert "nothing sent" in out
    assert "error" not in err
    assert sim.messages() == []
    assert book.read_bytes() == original


def test_a_journal_that_cannot_be_opened_stops_before_sending_and_says_so(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    env = environment(sim, tmp_path, ELKSXL_JOURNAL=str(folder))

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", env=env)

    assert result.returncode == 3, result.stderr
    assert "journal" in result.stderr
    assert sim.messages() == []


# -- campaigns belong to their workbook -------------------------------------------------------


def test_a_fresh_copy_at_the_same_path_gets_the_second_message_and_says_so_truthfully(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    clean = contacts(tmp_path / "clean.xlsx", 10)
    book = tmp_path / "book.xlsx"
    shutil.copyfile(clean, book)
    first = send(sim, tmp_path, book, "--yes", "--rate", "0", message="Påminnelse {{ Namn }}")
    assert first.returncode == 0, first.stderr

    shutil.copyfile(clean, book)  # the clean example over the same path, a new message
    plan = subprocess.run(
        [sys.executable, "-m", "elksxl", "plan", str(book), "--message", "Faktura {{ Namn }}"],
        capture_output=True,
        text=True,
        env=environment(sim, tmp_path),
    )
    second = send(sim, tmp_path, book, "--yes", "--rate", "0", message="Faktura {{ Namn }}")

    assert re.search(r"already sent\s+0", plan.stdout), plan.stdout
    assert second.returncode == 0, second.stderr
    assert re.search(r"│ sent\s*│\s*10 │", second.stdout), second.stdout
    invoices = [m for m in sim.messages() if m["message"].startswith("Faktura")]
    assert sorted(m["to"] for m in invoices) == sorted(e164(i) for i in range(10))
    assert {r["SMS status"] for r in results(book).values()} == {"sent"}


def test_a_changed_message_is_announced_before_sending(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    assert send(sim, tmp_path, book, "--yes", "--rate", "0").returncode == 0
    wb = load_workbook(book)
    wb["Kontakter"].append(["Ny", number(50), "Luleå"])
    wb.save(book)

    planned = subprocess.run(
        [sys.executable, "-m", "elksxl", "plan", str(book), "--message", "Nytt {{ Namn }}"],
        capture_output=True,
        text=True,
        env=environment(sim, tmp_path),
    )
    changed = send(sim, tmp_path, book, "--yes", "--rate", "0", message="Nytt {{ Namn }}")
    renewed = send(
        sim, tmp_path, book, "--yes", "--rate", "0", "--new-campaign", message="Nytt {{ Namn }}"
    )

    assert changed.returncode == 0, changed.stderr
    assert "the message differs" in changed.stderr
    assert "the message differs" in planned.stderr  # told by the plan, before any send
    assert "a new campaign" in renewed.stderr
    news = Counter(m["to"] for m in sim.messages() if m["message"].startswith("Nytt"))
    # The new row got it on the first run; --new-campaign then sent it to every valid row.
    assert news == {**{e164(i): 1 for i in range(3)}, e164(50): 2}


def test_a_wrong_password_stops_before_anything_is_sent(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = contacts(tmp_path / "book.xlsx", 3)
    original = book.read_bytes()
    env = environment(sim, tmp_path, ELKS_PASSWORD="hunter2-wrong")

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", env=env)

    assert result.returncode == 3
    assert "ELKS_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2-wrong" not in result.stdout + result.stderr
    assert sim.messages() == []
    assert book.read_bytes() == original


# -- crash and resume -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_run_renamed_resumes_and_every_recipient_gets_exactly_one_message(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    count = 60
    book = contacts(tmp_path / "book.xlsx", count)
    env = environment(sim, tmp_path)
    args = ["--message", "Hej {{ Namn }}!", "--yes"]
    run = subprocess.Popen(
        command(book, *args, "--rate", "600"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_until(lambda: len(sim.messages()) >= 10, timeout=60)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    killed_after = len(sim.messages())
    assert 10 <= killed_after < count, "the run finished before it was killed"
    assert read_table(book).rows  # whole and readable after the kill
    renamed = book.with_name("Kunder december.xlsx")  # the campaign travels with the file
    book.rename(renamed)
    book = renamed

    resume = subprocess.Popen(
        command(book, *args, "--rate", "0"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    opened = 0
    while resume.poll() is None:  # the workbook opens at every moment, also while it is saved
        load_workbook(book, read_only=True).close()
        opened += 1
        time.sleep(0.05)
    out, err = resume.communicate(timeout=120)

    assert resume.returncode == 0, (out, err)
    assert opened > 0
    accepted = by_recipient(sim)  # asserts that nobody got two messages
    assert set(accepted) == {e164(i) for i in range(count)}
    rows = results(book)
    assert len(rows) == count
    for row, got in rows.items():
        assert got["SMS status"] == "sent"
        assert got["SMS id"] == accepted[e164(row - 2)]["id"]


def test_ctrl_c_finishes_what_is_in_flight_and_a_rerun_sends_the_rest(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    count = 40
    book = contacts(tmp_path / "book.xlsx", count)
    env = environment(sim, tmp_path)
    args = ["--message", "Hej {{ Namn }}!", "--yes"]
    run = subprocess.Popen(
        command(book, *args, "--rate", "300"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_until(lambda: len(sim.messages()) >= 5, timeout=60)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    cancelled_after = len(sim.messages())

    assert run.returncode == 1, (out, err)
    assert "cancelling" in err
    assert "run the same command again" in out
    assert 5 <= cancelled_after < count
    first = results(book)
    sent_rows = [row for row, got in first.items() if got["SMS status"] == "sent"]
    assert len(sent_rows) == cancelled_after  # every request that left is recorded
    assert {got["SMS status"] for got in first.values()} == {"sent", "not sent"}

    rerun = send(sim, tmp_path, book, "--yes", "--rate", "0")

    assert rerun.returncode == 0, rerun.stderr
    assert set(by_recipient(sim)) == {e164(i) for i in range(count)}
    assert {got["SMS status"] for got in results(book).values()} == {"sent"}
