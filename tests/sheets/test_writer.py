"""Both result writers on real .xlsx files: result columns, values, what is kept, where it saves.

Every test runs against the openpyxl ResultWriter and the zip-patching XmlResultWriter.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from elksxl.errors import WorkbookError
from elksxl.sheets import ResultWriter, RowResult, XmlResultWriter, read_table
from elksxl.table import RESULT_COLUMNS

if TYPE_CHECKING:
    from conftest import Books

SENT = RowResult(
    status="sent",
    sms_id="s17a6dafb12d6b1cabc053a57dac2",
    parts=2,
    cost=0.7,
    sent_at=datetime(2024, 5, 1, 12, 0, 5, 123456),
)


Writer: type[ResultWriter] = ResultWriter  # set for each test by the fixture below


@pytest.fixture(autouse=True, params=[ResultWriter, XmlResultWriter], ids=["openpyxl", "xml"])
def writer_class(request: pytest.FixtureRequest) -> Iterator[type[ResultWriter]]:
    global Writer
    Writer = request.param
    yield request.param
    Writer = ResultWriter


def _sheet(path: Path, name: str | None = None) -> Worksheet:
    book = load_workbook(path)
    sheet = book[name] if name else book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def _values(sheet: Worksheet) -> dict[str, Any]:
    return {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value is not None}


def _write(path: Path, *results: tuple[int, RowResult], sheet: str | None = None) -> Path:
    writer = Writer(path, read_table(path, sheet))
    for row, result in results:
        writer.set(row, result)
    return writer.save()


# -- result columns -------------------------------------------------------------------------


def test_result_columns_are_created_right_of_the_table_in_order(books: Books) -> None:
    path = books.contacts()

    _write(path, (2, SENT))

    sheet = _sheet(path)
    assert [sheet.cell(1, c).value for c in range(3, 10)] == list(RESULT_COLUMNS)
    assert all(sheet.cell(1, c).font.b for c in range(3, 10))
    assert sheet.cell(1, 10).value is None


def test_new_headers_copy_the_header_style_in_bold(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Namn"])
    ws.append(["0701", "Anna"])
    for cell in ws[1]:
        cell.fill = PatternFill("solid", fgColor="FFDDEEFF")
        cell.font = Font(name="Arial", size=14)
    path = books.save(book)

    _write(path, (2, SENT))

    status = _sheet(path)["C1"]
    assert status.fill.fgColor.rgb == "FFDDEEFF"
    assert (status.font.name, status.font.sz, status.font.b) == ("Arial", 14, True)


def test_existing_result_columns_are_reused_wherever_they_are(books: Books) -> None:
    path = books.xlsx(
        [["Telefon", "sms  Status", "Namn", "SMS id"], ["0701", "failed", "Anna", None]]
    )

    writer = Writer(path, read_table(path))

    assert writer.columns["SMS status"] == "B"
    assert writer.columns["SMS id"] == "D"
    assert [writer.columns[name] for name in RESULT_COLUMNS[2:]] == ["E", "F", "G", "H", "I"]
    writer.set(2, SENT)
    writer.save()
    sheet = _sheet(path)
    assert sheet["B1"].value == "sms  Status"
    assert (sheet["B2"].value, sheet["C2"].value, sheet["D2"].value) == (
        "sent",
        "Anna",
        SENT.sms_id,
    )


def test_new_columns_go_right_of_every_used_cell_below_the_header(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Namn"])
    ws.append(["0701", "Anna"])
    ws["E3"] = "lös anteckning"
    ws["H1"].fill = PatternFill("solid", fgColor="FFFF0000")  # styled but empty: free
    ws.merge_cells("F5:G5")
    path = books.save(book)

    writer = Writer(path, read_table(path))

    assert writer.columns["SMS status"] == "H"


def test_a_merged_header_to_the_right_is_not_written_into(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Namn", "Anteckningar"])
    ws.append(["0701", "Anna", "x"])
    ws.merge_cells("C1:E1")
    path = books.save(book)

    writer = Writer(path, read_table(path))

    assert writer.columns["SMS status"] == "F"


def test_merged_cells_in_a_result_column_are_refused(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "SMS status"])
    ws.append(["0701", "sent"])
    ws.append(["0702", None])
    ws.merge_cells("B2:B3")
    path = books.save(book)

    with pytest.raises(WorkbookError, match=r"'SMS status' column has merged cells \(B2:B3\)"):
        Writer(path, read_table(path))


def test_a_changed_header_row_is_refused(books: Books) -> None:
    path = books.contacts()
    table = read_table(path)
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.insert_cols(1)
    book.save(path)

    with pytest.raises(WorkbookError, match="header row changed"):
        Writer(path, table)


def test_whole_sheet_column_format_gets_no_overlapping_column_entry(books: Books) -> None:
    path = books.contacts()
    books.patch_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"<sheetData>",
            b'<cols><col min="1" max="16384" width="12" customWidth="1"/></cols><sheetData>',
        ),
    )

    _write(path, (2, SENT))

    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert xml.count(b"<col ") == 1


def test_new_result_columns_get_widths(books: Books) -> None:
    path = books.contacts()

    _write(path, (2, SENT))

    dims = _sheet(path).column_dimensions
    assert dims["D"].width >= 30  # SMS id
    assert dims["H"].width >= 19  # SMS sent at


# -- values ---------------------------------------------------------------------------------


def test_results_are_written_with_their_types_and_formats(books: Books) -> None:
    path = books.contacts()

    _write(path, (3, SENT), (4, RowResult(status="failed", error="invalid number")))

    sheet = _sheet(path)
    assert [sheet.cell(3, c).value for c in range(3, 10)] == [
        "sent",
        SENT.sms_id,
        2,
        0.7,
        None,
        datetime(2024, 5, 1, 12, 0, 5),
        None,
    ]
    assert sheet["F3"].number_format == "0.00##"
    assert sheet["H3"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert [sheet.cell(4, c).value for c in (3, 7)] == ["failed", "invalid number"]
    assert all(sheet.cell(2, c).value is None for c in range(3, 10))


@pytest.fixture
def stockholm_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("stockholm_time")
def test_aware_timestamps_are_written_in_local_time(books: Books) -> None:
    path = books.contacts()
    moment = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)

    _write(path, (2, RowResult(sent_at=moment, delivered_at=moment)))

    sheet = _sheet(path)
    assert sheet["H2"].value == datetime(2024, 7, 1, 14, 0)
    assert sheet["I2"].value == datetime(2024, 7, 1, 14, 0)


def test_none_leaves_a_cell_unchanged_and_empty_text_clears_it(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))
    writer.set(2, RowResult(status="failed", error="timeout", parts=1))
    writer.save()

    writer = Writer(path, read_table(path))
    writer.set(2, RowResult(status="sent", sms_id="s1", error=""))
    writer.save()

    sheet = _sheet(path)
    assert [sheet.cell(2, c).value for c in range(3, 8)] == ["sent", "s1", 1, None, None]


def test_user_formats_in_result_columns_are_kept(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "SMS cost", "SMS sent at"])
    ws.append(["0701", None, None])
    ws["B2"].number_format = '#,##0.00 "kr"'
    ws["B2"].value = 0
    ws["C2"].number_format = "d/m/yyyy"
    ws["C2"].value = datetime(2020, 1, 1)
    path = books.save(book)

    _write(path, (2, SENT))

    sheet = _sheet(path)
    assert (sheet["B2"].value, sheet["B2"].number_format) == (0.7, '#,##0.00 "kr"')
    assert (sheet["C2"].value, sheet["C2"].number_format) == (
        datetime(2024, 5, 1, 12, 0, 5),
        "d/m/yyyy",
    )


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","click")',
        "=1+1",
        "+46701234567",
        "-2+3",
        "@SUM(A1:A2)",
        "#N/A",
        "=cmd|' /C calc'!A0",
    ],
)
def test_outside_text_is_stored_as_text_never_as_a_formula(books: Books, text: str) -> None:
    path = books.contacts()

    _write(path, (2, RowResult(status=text, error=text, sms_id=text)))

    sheet = _sheet(path)
    for ref in ("C2", "D2", "G2"):
        assert sheet[ref].value == text
        assert sheet[ref].data_type == "s"
    assert b"<f>" not in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert read_table(path).rows[0].values[2] == text


def test_control_characters_are_dropped_and_long_text_is_cut_to_excel_limit(
    books: Books,
) -> None:
    path = books.contacts()

    _write(path, (2, RowResult(error="bad\x00\x07 body\x1f", sms_id="x" * 40_000)))

    sheet = _sheet(path)
    assert sheet["G2"].value == "bad body"
    assert len(sheet["D2"].value) == 32_767


def test_header_row_cannot_be_written(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))

    with pytest.raises(ValueError, match="not below the header row"):
        writer.set(1, SENT)


def test_written_results_read_back_into_the_table(books: Books) -> None:
    path = books.contacts()

    _write(path, (2, SENT), (3, RowResult(status="failed", error="landline")))

    table = read_table(path)
    status = table.column_index("SMS status")
    assert status is not None
    assert [r.values[status] for r in table.rows] == ["sent", "failed", None]


# -- what the save keeps --------------------------------------------------------------------


def test_save_keeps_everything_else_in_the_workbook(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Telefon", "Namn", "Antal", "Summa"])
    ws.append(["0701", "Anna", 2, "=C2*10"])
    ws.append(["0702", "Bo", 3, "=C3*10"])
    ws["B2"].font = Font(italic=True, color="FF00AA00")
    ws["C2"].number_format = "0.000"
    ws.column_dimensions["B"].width = 33
    ws.freeze_panes = "A2"
    ws["A3"].comment = Comment("ring först", "Eva")
    rule = CellIsRule(  # type: ignore[no-untyped-call]
        operator="greaterThan", formula=["2"], fill=PatternFill("solid", "FFFF00")
    )
    ws.conditional_formatting.add("C2:C3", rule)
    validation = DataValidation(type="list", formula1='"Ja,Nej"')
    ws.add_data_validation(validation)
    validation.add("E2:E3")
    other = book.create_sheet("Priser")
    other["A1"] = "Pris"
    other["B1"] = 0.35
    book.defined_names["Pris"] = DefinedName("Pris", attr_text="Priser!$B$1")
    path = books.save(book)
    before = _values(_sheet(path))

    _write(path, (2, SENT), (3, SENT))

    after_book = load_workbook(path)
    sheet = after_book["Kontakter"]
    after = _values(sheet)
    assert {k: v for k, v in after.items() if k[0] in "ABCD"} == before
    assert sheet["D2"].value == "=C2*10"
    assert sheet["B2"].font.i
    assert sheet["B2"].font.color.rgb == "FF00AA00"
    assert sheet["C2"].number_format == "0.000"
    assert sheet.column_dimensions["B"].width == 33
    assert sheet.freeze_panes == "A2"
    assert sheet["A3"].comment.text == "ring först"
    assert len(sheet.conditional_formatting) == 1
    assert [str(dv.sqref) for dv in sheet.data_validations.dataValidation] == ["E2:E3"]
    assert after_book["Priser"]["B1"].value == 0.35
    assert after_book.defined_names["Pris"].attr_text == "Priser!$B$1"


def test_mixed_formatting_inside_a_cell_survives_repeated_runs(books: Books) -> None:
    bold = TextBlock(InlineFont(b=True), "inte")
    parts: list[str | TextBlock] = ["Ring ", bold, " före nio"]
    note = CellRichText(parts)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Anteckning"])
    ws.append(["0701", note])
    path = books.save(book)

    _write(path, (2, SENT))
    _write(path, (2, RowResult(status="delivered")))

    sheet = load_workbook(path, rich_text=True).active
    assert isinstance(sheet, Worksheet)
    value = sheet["B2"].value
    assert isinstance(value, CellRichText)
    assert [str(part) for part in value] == ["Ring ", "inte", " före nio"]
    assert isinstance(value[1], TextBlock)
    assert value[1].font.b


def test_xlsm_macros_are_kept_byte_for_byte(books: Books, tmp_path: Path) -> None:
    path = books.contacts("makro.xlsm")
    vba = os.urandom(3000)
    _make_macro_enabled(books, path, vba)

    _write(path, (2, SENT))

    with zipfile.ZipFile(path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled" in archive.read("[Content_Types].xml")
        assert b"vbaProject.bin" in archive.read("xl/_rels/workbook.xml.rels")
    assert _sheet(path)["C2"].value == "sent"


def _make_macro_enabled(books: Books, path: Path, vba: bytes) -> None:
    books.add_member(path, "xl/vbaProject.bin", vba)
    books.patch_member(
        path,
        "[Content_Types].xml",
        lambda xml: xml.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ).replace(
            b"<Default ",
            b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            b"<Default ",
            1,
        ),
    )
    books.patch_member(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdVba" Target="vbaProject.bin" Type="http://schemas.'
            b'microsoft.com/office/2006/relationships/vbaProject"/></Relationships>',
        ),
    )


def test_a_template_stays_a_template(books: Books) -> None:
    source = books.contacts()
    path = source.with_suffix(".xltx")
    book = load_workbook(source)
    book.template = True
    book.save(path)

    _write(path, (2, SENT))

    content_types = zipfile.ZipFile(path).read("[Content_Types].xml")
    assert b"spreadsheetml.template.main+xml" in content_types
    assert _sheet(path)["C2"].value == "sent"


def test_images_are_kept_when_pillow_is_installed(books: Books, tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    from openpyxl.drawing.image import Image

    logo = tmp_path / "logo.png"
    pil.new("RGB", (4, 4), "red").save(logo)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon"])
    ws.append(["0701"])
    ws.add_image(Image(str(logo)), "D5")
    path = books.save(book)

    _write(path, (2, SENT))

    assert any(n.startswith("xl/media/") for n in zipfile.ZipFile(path).namelist())


def test_features_openpyxl_drops_are_reported_or_kept_not_raised(books: Books) -> None:
    path = books.contacts()
    books.patch_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"</worksheet>",
            b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"/></extLst></worksheet>',
        ),
    )

    writer = Writer(path, read_table(path))
    writer.set(2, SENT)
    writer.save()

    if Writer is XmlResultWriter:  # it drops nothing, so it has nothing to report
        assert writer.warnings == ()
        assert b"CCE6A557" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    else:
        assert any("Data Validation extension" in w for w in writer.warnings)


# -- saving: atomic, repeated, and somewhere else when the workbook cannot be replaced ---------


def test_save_replaces_the_file_and_leaves_no_temporary_files(books: Books) -> None:
    path = books.contacts()
    path.chmod(0o640)

    target = _write(path, (2, SENT))

    assert target == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["book.xlsx"]
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_symbolic_link_keeps_pointing_at_the_saved_workbook(books: Books, tmp_path: Path) -> None:
    real = books.contacts("riktig.xlsx")
    link = tmp_path / "genväg.xlsx"
    link.symlink_to(real)

    assert _write(link, (2, SENT)) == link

    assert link.is_symlink()
    assert _sheet(real)["C2"].value == "sent"


def test_repeated_saves_accumulate_results(books: Books) -> None:
    path = books.contacts(rows=5)
    writer = Writer(path, read_table(path))

    for row in range(2, 7):
        writer.set(row, RowResult(status="sent", sms_id=f"s{row}"))
        assert writer.save() == path
        assert read_table(path).rows[row - 2].values[3] == f"s{row}"

    writer.set(2, RowResult(status="delivered"))
    writer.save()
    statuses = [r.values[2] for r in read_table(path).rows]
    assert statuses == ["delivered", "sent", "sent", "sent", "sent"]


@pytest.mark.parametrize("lock_name", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_workbook_open_in_excel_gets_a_results_file_beside_it(books: Books, lock_name: str) -> None:
    path = books.contacts()
    original = path.read_bytes()
    writer = Writer(path, read_table(path))
    writer.set(2, SENT)
    (path.parent / lock_name).write_bytes(b"user")

    saved = writer.save()

    assert saved == path.parent / "book.results.xlsx"
    assert writer.target == saved
    assert writer.fallback_reason is not None
    assert lock_name in writer.fallback_reason
    assert path.read_bytes() == original
    assert _sheet(saved)["C2"].value == "sent"


def test_results_stay_in_the_results_file_once_it_is_used(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))
    lock = path.parent / "~$book.xlsx"
    lock.write_bytes(b"user")
    writer.set(2, SENT)
    first = writer.save()
    lock.unlink()

    writer.set(3, SENT)
    second = writer.save()

    assert first == second == path.parent / "book.results.xlsx"
    assert _sheet(second)["C3"].value == "sent"


def test_results_file_open_in_excel_is_an_error(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))
    (path.parent / "~$book.xlsx").write_bytes(b"user")
    writer.save()
    (path.parent / "~$book.results.xlsx").write_bytes(b"user")

    with pytest.raises(WorkbookError, match="results file is open in Excel or another program"):
        writer.save()


def test_read_only_workbook_gets_a_results_file_beside_it(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))
    writer.set(2, SENT)
    path.chmod(0o444)

    saved = writer.save()

    assert saved == path.parent / "book.results.xlsx"
    assert writer.fallback_reason == "it is read-only"
    assert os.access(saved, os.W_OK)
    assert _sheet(saved)["C2"].value == "sent"


def test_read_only_folder_puts_the_results_file_in_the_current_folder(
    books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "delad"
    folder.mkdir()
    path = type(books)(folder).contacts()
    writer = Writer(path, read_table(path))
    writer.set(2, SENT)
    here = tmp_path / "här"
    here.mkdir()
    monkeypatch.chdir(here)
    folder.chmod(0o555)
    try:
        saved = writer.save()
    finally:
        folder.chmod(0o755)

    assert saved == here / "book.results.xlsx"
    assert _sheet(saved)["C2"].value == "sent"


def test_workbook_changed_by_someone_else_is_not_overwritten(books: Books) -> None:
    path = books.contacts()
    writer = Writer(path, read_table(path))
    writer.set(2, SENT)
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["B4"] = "ändrad av Eva"
    book.save(path)

    saved = writer.save()

    assert saved.name == "book.results.xlsx"
    assert _sheet(path)["B4"].value == "ändrad av Eva"


def test_missing_workbook_is_a_workbook_error(books: Books, tmp_path: Path) -> None:
    table = read_table(books.contacts())

    with pytest.raises(WorkbookError, match="not found"):
        Writer(tmp_path / "borta.xlsx", table)


def test_table_from_a_sheet_the_workbook_lacks_is_refused(books: Books) -> None:
    path = books.contacts()
    table = read_table(path)
    other = books.xlsx([["Telefon"], ["0701"]], "annan.xlsx", sheet="Blad1")

    with pytest.raises(WorkbookError, match="no sheet named 'Kontakter'"):
        Writer(other, table)
