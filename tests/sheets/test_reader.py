"""read_table on real .xlsx files: values, header detection, row numbers and every bad input."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook

from elksxl.errors import WorkbookError
from elksxl.sheets import read_table

if TYPE_CHECKING:
    from conftest import Books


def test_header_in_row_one_puts_first_recipient_in_row_two(books: Books) -> None:
    path = books.xlsx([["Telefon", "Förnamn"], ["0701234567", "Anna"], ["0707654321", "Bo"]])

    table = read_table(path)

    assert table.header == ("Telefon", "Förnamn")
    assert [(r.number, r.values) for r in table.rows] == [
        (2, ("0701234567", "Anna")),
        (3, ("0707654321", "Bo")),
    ]
    assert (table.sheet, table.source, table.header_row, table.first_column) == (
        "Kontakter",
        str(path),
        1,
        1,
    )


def test_cell_values_keep_their_types(books: Books) -> None:
    long_text = "lång text " * 200
    path = books.xlsx(
        [
            ["Heltal", "Decimal", "Textnummer", "Sant", "Datum", "Tid", "Tidpunkt", "Lång"],
            [
                46701234567,
                1.5,
                "0701234567",
                True,
                date(2024, 5, 1),
                time(8, 30),
                datetime(2024, 5, 1, 13, 45, 10),
                long_text,
            ],
        ]
    )

    (row,) = read_table(path).rows

    whole, decimal, text, flag, day, clock, moment, long_value = row.values
    assert whole == 46701234567
    assert isinstance(whole, int | float)
    assert decimal == 1.5
    assert text == "0701234567"
    assert flag is True
    assert day == date(2024, 5, 1)
    assert clock == time(8, 30)
    assert moment == datetime(2024, 5, 1, 13, 45, 10)
    assert long_value == long_text


def test_empty_cells_and_empty_text_read_as_none(books: Books) -> None:
    path = books.xlsx([["A", "B", "C"], ["x", "", None], [None, None, "z"]])

    rows = read_table(path).rows

    assert [r.values for r in rows] == [("x", None, None), (None, None, "z")]


def test_text_is_not_stripped_but_headers_are(books: Books) -> None:
    path = books.xlsx([["  Telefon ", "Namn\n"], ["0701234567 ", "  Anna"]])

    table = read_table(path)

    assert table.header == ("Telefon", "Namn")
    assert table.rows[0].values == ("0701234567 ", "  Anna")


def test_durations_become_time_or_hours_text(books: Books) -> None:
    path = books.xlsx([["Kort", "Lång"], [timedelta(hours=2, minutes=5), timedelta(hours=30)]])

    (row,) = read_table(path).rows

    assert row.values == (time(2, 5), "30:00:00")


def test_formula_cells_read_their_cached_values(books: Books) -> None:
    path = books.xlsx([["Tal", "Dubbel", "Text", "Okalkylerad"], [21, "=A2*2", '=A2&"x"', "=A2+1"]])
    sheet_xml = "xl/worksheets/sheet1.xml"
    books.patch_member(path, sheet_xml, lambda xml: books.set_cached_value(xml, "B2", "42"))
    books.patch_member(
        path, sheet_xml, lambda xml: books.set_cached_value(xml, "C2", "21x", text=True)
    )

    (row,) = read_table(path).rows

    # D2 was saved without a cached value, as openpyxl does: there is nothing to read.
    assert row.values == (21, 42, "21x", None)


def test_error_values_read_as_none(books: Books) -> None:
    path = books.xlsx([["Telefon", "Namn"], ["#N/A", "Anna"]])  # openpyxl stores an error cell

    (row,) = read_table(path).rows

    assert row.values == (None, "Anna")


def test_header_below_and_right_of_a1_keeps_real_row_numbers(books: Books) -> None:
    path = books.xlsx(
        [["Telefon", "Namn"], ["0701", "Anna"], ["0702", "Bo"]], start_row=3, start_column=3
    )

    table = read_table(path)

    assert (table.header_row, table.first_column) == (3, 3)
    assert [r.number for r in table.rows] == [4, 5]
    assert table.header == ("Telefon", "Namn")


def test_empty_rows_are_skipped_and_numbers_stay_right(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Telefon", "Namn"])
    ws.append(["0701", "Anna"])
    ws.append([])
    ws.append([None, ""])
    ws.append(["0703", "Cecilia"])
    ws["A20"].number_format = "0.00"  # formatted but empty: not a row
    ws["B30"] = ""
    path = books.save(book)

    table = read_table(path)

    assert [(r.number, r.values[0]) for r in table.rows] == [(2, "0701"), (5, "0703")]


def test_blank_header_stays_empty_and_rows_align_with_header(books: Books) -> None:
    path = books.xlsx([["Telefon", None, "Namn"], ["0701", "anteckning", "Anna"]])

    table = read_table(path)

    assert table.header == ("Telefon", "", "Namn")
    assert table.rows[0].values == ("0701", "anteckning", "Anna")


def test_data_right_of_the_header_gets_a_blank_header(books: Books) -> None:
    path = books.xlsx([["Telefon", "Namn"], ["0701", "Anna", "lös anteckning"]])

    table = read_table(path)

    assert table.header == ("Telefon", "Namn", "")
    assert all(len(r.values) == len(table.header) for r in table.rows)


def test_numeric_headers_read_without_decimals(books: Books) -> None:
    path = books.xlsx([["Telefon", 2024], ["0701", 5]])

    assert read_table(path).header == ("Telefon", "2024")


def test_merged_header_names_its_first_column(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Namn", None])
    ws.append(["0701", "Anna", "Andersson"])
    ws.merge_cells("B1:C1")
    path = books.save(book)

    table = read_table(path)

    assert table.header == ("Telefon", "Namn", "")
    assert table.rows[0].values == ("0701", "Anna", "Andersson")


def test_merged_data_cells_hold_their_value_only_in_the_top_left_cell(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Grupp"])
    ws.append(["0701", "Styrelsen"])
    ws.append(["0702", None])
    ws.merge_cells("B2:B3")
    path = books.save(book)

    rows = read_table(path).rows

    assert [r.values for r in rows] == [("0701", "Styrelsen"), ("0702", None)]


def test_duplicate_headers_name_both_cells(books: Books) -> None:
    path = books.xlsx([["Telefon", "Namn", "Ort", " Namn"], ["0701", "Anna", "Ö", "B"]])

    with pytest.raises(WorkbookError) as caught:
        read_table(path)

    message = str(caught.value)
    assert "'Namn' (B1 and D1)" in message
    assert "book.xlsx" in message


def test_first_visible_worksheet_is_read_when_no_sheet_is_named(books: Books) -> None:
    book = Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "Gömd"
    hidden.append(["Hemlig"])
    hidden.sheet_state = "hidden"
    shown = book.create_sheet("Lista")
    shown.append(["Telefon"])
    shown.append(["0701"])
    path = books.save(book)

    table = read_table(path)

    assert table.sheet == "Lista"


def test_named_sheet_is_read_and_case_is_forgiven(books: Books) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["Annat"])
    second = book.create_sheet("Kunder 2024")
    second.append(["Telefon"])
    second.append(["0701"])
    path = books.save(book)

    assert read_table(path, "Kunder 2024").sheet == "Kunder 2024"
    assert read_table(path, "kunder 2024").sheet == "Kunder 2024"


def test_unknown_sheet_lists_the_sheets_that_exist(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Telefon"])
    book.create_sheet("Arkiv")
    path = books.save(book)

    with pytest.raises(WorkbookError, match=r"no sheet named 'Kunder'.*'Kontakter', 'Arkiv'"):
        read_table(path, "Kunder")


def test_xlsm_and_xltx_files_are_read(books: Books) -> None:
    source = books.contacts()
    for suffix in (".xlsm", ".xltx"):
        copy = source.with_suffix(suffix)
        copy.write_bytes(source.read_bytes())

        assert len(read_table(copy).rows) == 3


# -- bad input: every problem is a WorkbookError naming the file and saying what to do --------


def _problem(path: Path, sheet: str | None = None) -> str:
    with pytest.raises(WorkbookError) as caught:
        read_table(path, sheet)
    message = str(caught.value)
    assert path.name in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _problem(tmp_path / "saknas.xlsx")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "lista.xlsx"
    folder.mkdir()

    assert "folder" in _problem(folder)


def test_a_text_file_named_xlsx_is_refused_with_save_as_advice(tmp_path: Path) -> None:
    path = tmp_path / "omdöpt.xlsx"
    path.write_text("Telefon;Namn\n0701234567;Anna\n", encoding="utf-8")

    message = _problem(path)

    assert "text file" in message
    assert "save it as Excel Workbook (.xlsx)" in message


def test_csv_and_txt_files_are_read_as_contact_lists(tmp_path: Path) -> None:
    for name in ("lista.csv", "lista.txt"):
        path = tmp_path / name
        path.write_text("Telefon;Namn\n0701234567;Anna\n", encoding="utf-8")

        table = read_table(path)

        assert table.header == ("Telefon", "Namn")
        assert [row.values for row in table.rows] == [("0701234567", "Anna")]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "tom.xlsx"
    path.write_bytes(b"")

    assert "empty" in _problem(path)


def test_old_xls_format_asks_for_save_as_xlsx(books: Books, tmp_path: Path) -> None:
    for name in ("gammal.xls", "gammal-omdöpt.xlsx"):
        path = books.compound_file(tmp_path / name, ["Workbook"])

        message = _problem(path)

        assert "97-2003" in message
        assert "save it as Excel Workbook (.xlsx)" in message


def test_password_protected_workbook_says_how_to_remove_the_password(
    books: Books, tmp_path: Path
) -> None:
    path = books.compound_file(tmp_path / "lösen.xlsx", ["EncryptionInfo", "EncryptedPackage"])

    message = _problem(path)

    assert "password" in message
    assert "File > Info > Protect Workbook" in message


def test_truncated_workbook_is_reported_as_damaged(books: Books) -> None:
    path = books.contacts(rows=200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    assert "damaged" in _problem(path)


def test_zip_that_is_not_a_workbook_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "dokument.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    assert "not an Excel file" in _problem(path)


def test_corrupt_sheet_xml_is_reported_as_damaged(books: Books) -> None:
    path = books.contacts()
    books.patch_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])

    assert "damaged" in _problem(path)


def test_unsupported_extension_is_refused(books: Books) -> None:
    source = books.contacts()
    path = source.with_suffix(".ods")
    path.write_bytes(source.read_bytes())

    assert ".xlsx" in _problem(path)


def test_empty_sheet(books: Books) -> None:
    path = books.xlsx([])

    message = _problem(path)

    assert "sheet 'Kontakter'" in message
    assert "the sheet is empty: put a header row" in message


def test_sheet_of_only_formatted_empty_cells_is_empty(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws["B2"].number_format = "0.00"
    path = books.save(book)

    assert "empty" in _problem(path)


def test_numbers_in_the_first_row_are_data_not_a_header(books: Books) -> None:
    path = books.xlsx([[46701234567, 12], [46707654321, 13]])

    message = _problem(path)

    assert "row 1 looks like data, not a header" in message
    assert "Telefon" in message


def test_phone_number_text_in_the_first_row_is_data_not_a_header(books: Books) -> None:
    path = books.xlsx([["070-123 45 67", "Anna"], ["070-765 43 21", "Bo"]], start_row=2)

    assert "row 2 looks like data" in _problem(path)


def test_chart_sheet_cannot_be_read(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon"])
    book.create_chartsheet("Diagram")
    path = books.save(book)

    assert "chart" in _problem(path, "Diagram")
