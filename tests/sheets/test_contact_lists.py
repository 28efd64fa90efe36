"""Which rows are the campaign: hidden rows, title rows above the header, Excel tables.

Workbooks come from openpyxl and from XlsxWriter, which lays files out as Excel does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import xlsxwriter
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.table import Table as OpenpyxlTable
from openpyxl.worksheet.table import TableColumn

from elksxl.errors import WorkbookError
from elksxl.sheets import ResultWriter, RowResult, WorkbookWriter, XmlResultWriter, read_table
from elksxl.table import RESULT_COLUMNS

if TYPE_CHECKING:
    from conftest import Books

WRITERS = pytest.mark.parametrize(
    "writer_class", [ResultWriter, XmlResultWriter], ids=["openpyxl", "xml"]
)
PEOPLE = [
    ["0701234501", "Anna", "Stockholm"],
    ["0701234502", "Bo", "Göteborg"],
    ["0701234503", "Cia", "Stockholm"],
    ["0701234504", "Dan", "Malmö"],
]


def _numbers(path: Path, **options: Any) -> list[int]:
    return [r.number for r in read_table(path, **options).rows]


def _write_all(writer_class: type[WorkbookWriter], path: Path, **options: Any) -> WorkbookWriter:
    table = read_table(path, **options)
    writer = writer_class(path, table)  # type: ignore[call-arg]
    for row in table.rows:
        writer.set(row.number, RowResult(status="sent"))
    writer.save()
    return writer


# -- hidden rows ----------------------------------------------------------------------------


def test_rows_hidden_by_a_filter_or_by_hand_are_left_out_and_counted(books: Books) -> None:
    path = books.xlsx([["Telefon", "Namn", "Stad"], *PEOPLE])
    book = load_workbook(path)
    sheet: Any = book.active
    sheet.row_dimensions[3].hidden = True
    sheet.row_dimensions[5].hidden = True
    sheet.row_dimensions[9].hidden = True  # hidden but empty: nothing left out
    book.save(path)

    table = read_table(path)

    assert [r.number for r in table.rows] == [2, 4]
    assert table.hidden_rows == 2
    assert _numbers(path, include_hidden=True) == [2, 3, 4, 5]
    assert read_table(path, include_hidden=True).hidden_rows == 0


def test_hidden_rows_are_found_in_a_large_excel_layout_sheet(books: Books) -> None:
    path = books.folder / "large.xlsx"
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("Kontakter")
    sheet.write_row(0, 0, ["Telefon", "Namn", "Meddelande"])
    for i in range(1, 40_001):
        if i % 997 == 0:
            sheet.set_row(i, None, None, {"hidden": True})
        sheet.write_row(i, 0, [f"07012{i:05d}", f"Namn {i}", "x" * 40])
    book.close()

    table = read_table(path)

    hidden = {i + 1 for i in range(1, 40_001) if i % 997 == 0}
    assert table.hidden_rows == len(hidden) == 40
    assert len(table.rows) == 40_000 - 40
    assert not hidden & {r.number for r in table.rows}


# -- the header row -------------------------------------------------------------------------


def _titled(books: Books, *, merged: bool = True) -> Path:
    book = Workbook()
    sheet: Any = book.active
    sheet.title = "Kontakter"
    sheet["A1"] = "Customer list Q4 2026"
    if merged:
        sheet.merge_cells("A1:C1")
    sheet.append([])
    sheet.append(["Telefon", "Namn", "Stad"])
    for person in PEOPLE:
        sheet.append(person)
    sheet.delete_rows(2)  # appended rows follow the title directly...
    sheet.insert_rows(2)  # ...so make row 2 explicitly empty
    return books.save(book)


@pytest.mark.parametrize("merged", [True, False], ids=["merged title", "title and empty row"])
def test_a_title_above_the_header_is_skipped(books: Books, merged: bool) -> None:
    path = _titled(books, merged=merged)

    table = read_table(path)

    assert table.header_row == 3
    assert table.header == ("Telefon", "Namn", "Stad")
    assert [r.number for r in table.rows] == [4, 5, 6, 7]


def test_the_header_row_can_be_named(books: Books) -> None:
    path = books.xlsx([["Kundlista", None], ["Namn", "Telefon"], ["Anna", "0701234501"]])

    table = read_table(path, header_row=2)

    assert (table.header_row, table.header) == (2, ("Namn", "Telefon"))
    assert [r.number for r in table.rows] == [3]


def test_an_empty_named_header_row_is_an_error(books: Books) -> None:
    path = books.xlsx([["Telefon"], [None], ["0701234501"]])

    with pytest.raises(WorkbookError, match="row 2 is empty"):
        read_table(path, header_row=2)


@WRITERS
def test_result_headers_go_into_the_header_row_not_the_title(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = _titled(books)

    _write_all(writer_class, path)

    sheet: Any = load_workbook(path).active
    assert [sheet.cell(3, c).value for c in range(4, 11)] == list(RESULT_COLUMNS)
    assert sheet["D1"].value is None
    assert sheet["D4"].value == "sent"


@pytest.mark.parametrize(
    "rows",
    [[["Telefon", "Namn"]], [["Customer list"], [None], ["Telefon", "Namn"]]],
    ids=["header only", "title and header only"],
)
def test_a_sheet_with_only_a_header_is_an_empty_table(books: Books, rows: list[Any]) -> None:
    table = read_table(books.xlsx(rows))

    assert table.header == ("Telefon", "Namn")
    assert list(table.rows) == []


# -- Excel tables ---------------------------------------------------------------------------


def _excel_table(books: Books, *, right_of_table: str | None = None) -> Path:
    """A title row, then an Excel table with a totals row 'Summa', as Excel lays it out."""
    path = books.folder / "tabell.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Kontakter")
    sheet.merge_range("A1:C1", "Customer list Q4 2026")
    sheet.add_table(
        "A3:C8",
        {
            "name": "Kunder",
            "total_row": True,
            "columns": [
                {"header": "Telefon", "total_string": "Summa"},
                {"header": "Namn"},
                {"header": "Stad", "total_function": "count"},
            ],
            "data": PEOPLE,
        },
    )
    sheet.write("J20", "notes below the table")
    if right_of_table:
        sheet.write("D5", right_of_table)
    book.close()
    return path


def test_the_excel_table_is_the_contact_list_without_its_totals_row(books: Books) -> None:
    path = _excel_table(books)

    table = read_table(path)

    assert (table.header_row, table.first_column) == (3, 1)
    assert table.header == ("Telefon", "Namn", "Stad")
    assert [r.number for r in table.rows] == [4, 5, 6, 7]


@WRITERS
def test_result_columns_widen_the_excel_table(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = _excel_table(books)

    writer = _write_all(writer_class, path)

    assert writer.warnings == ()
    sheet: Any = load_workbook(path).active
    found = sheet.tables["Kunder"]
    assert found.ref == "A3:J8"
    assert found.autoFilter.ref == "A3:J7"
    names = [c.name for c in found.tableColumns]
    assert names == ["Telefon", "Namn", "Stad", *RESULT_COLUMNS]
    assert len({c.id for c in found.tableColumns}) == 10
    assert [sheet.cell(3, c).value for c in range(4, 11)] == list(RESULT_COLUMNS)
    assert sheet["D8"].value is None  # the totals row gets no result
    assert read_table(path).header == ("Telefon", "Namn", "Stad", *RESULT_COLUMNS)


@WRITERS
def test_a_table_made_by_openpyxl_with_a_totals_row_is_widened(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    book = Workbook()
    sheet: Any = book.active
    sheet.append(["Telefon", "Namn"])
    sheet.append(["0701234501", "Anna"])
    sheet.append(["0701234502", "Bo"])
    sheet.append(["Summa", None])
    listed = OpenpyxlTable(displayName="Lista", ref="A1:B4", totalsRowCount=1)
    listed.tableColumns = [TableColumn(id=1, name="Telefon"), TableColumn(id=2, name="Namn")]
    listed._initialise_columns = lambda: None  # type: ignore[method-assign]
    sheet.add_table(listed)
    path = books.save(book)
    assert _numbers(path) == [2, 3]

    _write_all(writer_class, path)

    found = load_workbook(path).active.tables["Lista"]  # type: ignore[union-attr]
    assert found.ref == "A1:I4"
    assert [c.id for c in found.tableColumns] == list(range(1, 10))


@WRITERS
def test_cells_right_of_the_table_keep_results_outside_it_with_a_warning(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = _excel_table(books, right_of_table="note")

    writer = _write_all(writer_class, path)

    assert any("outside the Excel table 'Kunder'" in w for w in writer.warnings)
    sheet: Any = load_workbook(path).active
    assert sheet.tables["Kunder"].ref == "A3:C8"
    assert sheet["E3"].value == "SMS status"


def _two_tables(books: Books) -> Path:
    path = books.folder / "tva.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Kontakter")
    customers = [["0701234501", "Anna"], ["0701234502", "Bo"]]
    columns = [{"header": "Telefon"}, {"header": "Namn"}]
    sheet.add_table("A1:B3", {"name": "Kunder", "columns": columns, "data": customers})
    staff = {"name": "Personal", "columns": [{"header": "Mobil"}], "data": [["0701234599"]]}
    sheet.add_table("E1:E2", staff)
    book.close()
    return path


def test_several_tables_must_be_chosen_and_the_error_names_them(books: Books) -> None:
    path = _two_tables(books)

    with pytest.raises(WorkbookError, match="'Kunder', 'Personal'"):
        read_table(path)

    personal = read_table(path, table="Personal")
    assert (personal.header, personal.first_column) == (("Mobil",), 5)
    assert [r.values for r in personal.rows] == [("0701234599",)]
    with pytest.raises(WorkbookError, match="no Excel table named 'Saknas'"):
        read_table(path, table="Saknas")


@WRITERS
def test_the_chosen_table_of_several_is_widened(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = _two_tables(books)

    _write_all(writer_class, path, table="Kunder")

    tables = load_workbook(path).active.tables  # type: ignore[union-attr]
    assert tables["Kunder"].ref == "A1:B3"  # column E is used by the other table
    assert tables["Personal"].ref == "E1:E2"
