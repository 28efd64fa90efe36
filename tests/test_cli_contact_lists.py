"""`elksxl send` on the contact lists office staff really have, end to end against the simulator:
filtered sheets, Excel tables with a totals row, title rows, CSV files, header-only sheets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import xlsxwriter
from openpyxl import Workbook, load_workbook

from elksxl.sheets import read_table
from elksxl.table import RESULT_COLUMNS
from test_cli_send import FAST, e164, number, send

CITIES = ["Stockholm", "Göteborg", "Stockholm", "Malmö"]


def filtered_book(path: Path) -> Path:
    """Four contacts, filtered to Stockholm: rows 3 and 5 are hidden, as Excel saves it."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Namn", "Telefon", "Ort"])
    for i, city in enumerate(CITIES):
        ws.append([f"Namn{i}", number(i), city])
    ws.auto_filter.ref = "A1:C5"
    for row in (3, 5):
        ws.row_dimensions[row].hidden = True
    book.save(path)
    return path


def test_a_filtered_sheet_sends_only_the_visible_rows(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = filtered_book(tmp_path / "book.xlsx")

    result = send(sim, tmp_path, book, "--yes", "--rate", "0")

    assert result.returncode == 0, result.stderr
    assert "2 hidden rows left out" in result.stdout
    assert sorted(m["to"] for m in sim.messages()) == [e164(0), e164(2)]


def test_include_hidden_sends_to_hidden_rows_too(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(FAST)
    book = filtered_book(tmp_path / "book.xlsx")

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", "--include-hidden")

    assert result.returncode == 0, result.stderr
    assert sorted(m["to"] for m in sim.messages()) == [e164(i) for i in range(4)]


def test_an_excel_table_with_a_totals_row_gets_its_results_inside_the_widened_table(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    path = tmp_path / "tabell.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet("Kontakter")
    data = [[f"Namn{i}", number(i), 100 * i] for i in range(3)]
    ws.add_table(
        "A1:C5",
        {
            "name": "Kunder",
            "data": data,
            "total_row": True,
            "columns": [
                {"header": "Namn", "total_string": "Summa"},
                {"header": "Telefon"},
                {"header": "Belopp", "total_function": "sum"},
            ],
        },
    )
    workbook.close()

    result = send(sim, tmp_path, path, "--yes", "--rate", "0", message="Hej {{ Namn }}")

    assert result.returncode == 0, result.stderr
    assert sorted(m["to"] for m in sim.messages()) == [e164(i) for i in range(3)]
    book = load_workbook(path)
    sheet = book["Kontakter"]
    table = sheet.tables["Kunder"]
    last = chr(ord("C") + len(RESULT_COLUMNS))
    assert table.ref == f"A1:{last}5"
    assert [c.name for c in table.tableColumns][3:] == list(RESULT_COLUMNS)
    assert [sheet.cell(r, 4).value for r in (2, 3, 4)] == ["sent"] * 3
    assert sheet.cell(5, 1).value == "Summa"
    assert sheet.cell(5, 4).value is None  # nothing written beside the totals row


def test_a_title_above_the_header_is_skipped_and_results_go_into_the_header_row(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Customer list Q4 2026"])
    ws.merge_cells("A1:C1")
    ws.append([])
    ws.append(["Name", "Phone", "City"])
    for i in range(3):
        ws.append([f"Name{i}", number(i), "Umeå"])
    path = tmp_path / "titled.xlsx"
    book.save(path)

    result = send(sim, tmp_path, path, "--yes", "--rate", "0", message="Hi {{ Name }}")

    assert result.returncode == 0, result.stderr
    assert "header in row 3" in result.stdout
    assert sorted(m["message"] for m in sim.messages()) == ["Hi Name0", "Hi Name1", "Hi Name2"]
    ws = load_workbook(path).active
    assert ws is not None
    assert [ws.cell(3, 4 + i).value for i in range(len(RESULT_COLUMNS))] == list(RESULT_COLUMNS)
    assert ws.cell(1, 4).value is None
    assert [ws.cell(r, 4).value for r in (4, 5, 6)] == ["sent"] * 3


def test_a_semicolon_csv_in_windows_1252_gets_its_results_and_resumes_when_moved(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    lines = ["Namn;Telefon;Ort"] + [f"Åsa{i};{number(i)};Umeå" for i in range(4)]
    original = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    path = tmp_path / "kunder.csv"
    path.write_bytes(original)
    # The balance stops the run after two messages: the file then holds a half-sent campaign.
    sim.set_balance(sim.username, 2 * 3500 + 1000)

    first = send(sim, tmp_path, path, "--yes", "--rate", "0", "--force", message="Hej {{ Namn }}")

    assert first.returncode == 3, first.stderr
    written = path.read_bytes()
    text = written.decode("cp1252")
    assert "\r\n" in text
    assert text.count("\n") == 5
    for before, after in zip(
        original.decode("cp1252").splitlines(), text.splitlines(), strict=True
    ):
        assert after.startswith(before + ";")  # every original byte kept, columns appended
    moved = tmp_path / "moved" / "kunder december.csv"
    moved.parent.mkdir()
    shutil.move(path, moved)
    assert read_table(moved).campaign_id is not None

    sim.set_balance(sim.username, 10**9)
    second = send(sim, tmp_path, moved, "--yes", "--rate", "0", message="Hej {{ Namn }}")

    assert second.returncode == 0, second.stderr
    assert sorted(m["to"] for m in sim.messages()) == [e164(i) for i in range(4)]
    assert sorted(m["message"] for m in sim.messages())[0] == "Hej Åsa0"


def test_a_sheet_with_only_a_header_has_nothing_to_send_and_is_left_alone(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Namn", "Telefon"])
    path = tmp_path / "tom.xlsx"
    book.save(path)
    before = path.read_bytes()

    result = send(sim, tmp_path, path, "--yes", "--rate", "0", message="Hej", env=None)

    assert result.returncode == 0, result.stderr
    assert "nothing to send" in result.stdout
    assert path.read_bytes() == before
    assert sim.messages() == []


def test_the_plan_names_the_tables_when_a_sheet_holds_several(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    path = tmp_path / "tva.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet("Kontakter")
    ws.add_table(
        "A1:B2",
        {
            "name": "Kunder",
            "data": [["Anna", number(0)]],
            "columns": [{"header": "Namn"}, {"header": "Telefon"}],
        },
    )
    ws.add_table(
        "D1:E2",
        {
            "name": "Personal",
            "data": [["Bo", number(1)]],
            "columns": [{"header": "Namn"}, {"header": "Telefon"}],
        },
    )
    workbook.close()

    refused = send(sim, tmp_path, path, "--yes", "--rate", "0")
    chosen = send(sim, tmp_path, path, "--yes", "--rate", "0", "--table", "Personal")

    assert refused.returncode == 2
    assert "Kunder" in refused.stderr
    assert "Personal" in refused.stderr
    assert chosen.returncode == 0, chosen.stderr
    assert [m["to"] for m in sim.messages()] == [e164(1)]
