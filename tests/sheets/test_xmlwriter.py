"""What only the zip-patching XmlResultWriter promises, and when open_writer falls back.

The behaviour both writers share is tested against both in test_writer.py.
"""

from __future__ import annotations

import re
import struct
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from elksxl.sheets import (
    ResultWriter,
    RowResult,
    XmlResultWriter,
    open_writer,
    read_table,
)
from elksxl.sheets.xmlparts import Unsupported

if TYPE_CHECKING:
    from conftest import Books

SHEET = "xl/worksheets/sheet1.xml"
SENT = RowResult(status="sent", sms_id="s1", parts=1, cost=0.35, sent_at=datetime(2024, 5, 1, 9))


def _formula_book(books: Books) -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(["Telefon", "Antal", "Summa"])
    ws.append(["0701", 2, "=B2*10"])
    ws.append(["0702", 3, "=B3*10"])
    path = books.save(book)
    books.patch_member(path, SHEET, lambda xml: books.set_cached_value(xml, "C2", "20"))
    books.patch_member(path, SHEET, lambda xml: books.set_cached_value(xml, "C3", "30"))
    return path


def _save(path: Path, *results: tuple[int, RowResult]) -> ResultWriter:
    writer = open_writer(path, read_table(path))
    for row, result in results:
        writer.set(row, result)
    writer.save()
    return writer


def test_formula_cells_keep_their_cached_values(books: Books) -> None:
    path = _formula_book(books)
    assert [r.values[2] for r in read_table(path).rows] == [20, 30]

    writer = _save(path, (2, SENT), (3, SENT))

    assert isinstance(writer, XmlResultWriter)
    table = read_table(path)
    assert [r.values[2] for r in table.rows] == [20, 30]
    assert [r.values[3] for r in table.rows] == ["sent", "sent"]
    sheet = load_workbook(path).active
    assert isinstance(sheet, Worksheet)
    assert sheet["C2"].value == "=B2*10"


def test_only_the_sheet_and_styles_change_and_other_cells_keep_their_xml(books: Books) -> None:
    path = _formula_book(books)
    before = _members(path)

    _save(path, (2, SENT))

    after = _members(path)
    assert after.keys() == before.keys()
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {SHEET, "xl/styles.xml"}
    old_cells = re.findall(rb'<c r="[A-C]\d+".*?(?:/>|</c>)', before[SHEET])
    new_cells = re.findall(rb'<c r="[A-C]\d+".*?(?:/>|</c>)', after[SHEET])
    assert new_cells == old_cells


def test_the_rewritten_sheet_has_no_zip64_header(books: Books) -> None:
    # Excel never writes one for a small part, and some Office versions refuse it.
    path = books.contacts()

    _save(path, (2, SENT))

    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        f.seek(name_length, 1)
        extra = f.read(extra_length)
    assert struct.unpack("<H", header[4:6])[0] < 45  # the version needed: no ZIP64 (4.5)
    assert not _zip64_extra(extra)


def _zip64_extra(extra: bytes) -> bool:
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        if kind == 1:
            return True
        extra = extra[4 + size :]
    return False


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_repeated_runs_do_not_pile_up_cell_formats(books: Books) -> None:
    path = books.contacts()
    _save(path, (2, SENT))
    styles = zipfile.ZipFile(path).read("xl/styles.xml")

    _save(path, (3, SENT))
    _save(path, (4, RowResult(sent_at=datetime(2024, 1, 1), cost=1.5)))

    assert zipfile.ZipFile(path).read("xl/styles.xml") == styles


def test_a_bold_header_style_is_reused_for_new_headers(books: Books) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Telefon", "Namn"])
    ws.append(["0701", "Anna"])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FF112233")
    path = books.save(book)
    header_style = re.search(rb'<c r="B1" s="(\d+)"', zipfile.ZipFile(path).read(SHEET))
    assert header_style is not None

    _save(path, (2, SENT))

    xml = zipfile.ZipFile(path).read(SHEET)
    assert re.search(rb'<c r="C1" s="' + header_style[1] + rb'" t="inlineStr"', xml)
    sheet = load_workbook(path).active
    assert isinstance(sheet, Worksheet)
    assert sheet["C1"].font.b
    assert sheet["C1"].font.color.rgb == "FF112233"


def test_excel_style_rows_with_spans_and_a_dimension_are_widened(books: Books) -> None:
    path = books.contacts()

    def excel_like(xml: bytes) -> bytes:
        xml = xml.replace(b"<sheetViews>", b'<dimension ref="A1:B4"/><sheetViews>', 1)
        return re.sub(rb'<row r="(\d+)"', rb'<row r="\1" spans="1:2"', xml)

    books.patch_member(path, SHEET, excel_like)

    _save(path, (3, SENT))

    xml = zipfile.ZipFile(path).read(SHEET)
    assert b'<dimension ref="A1:I4"/>' in xml
    assert b'<row r="3" spans="1:8">' in xml
    assert b'<row r="2" spans="1:2">' in xml  # not written: left as it was
    assert read_table(path).rows[1].values[2] == "sent"


def test_results_for_rows_beyond_the_sheet_get_new_rows(books: Books) -> None:
    path = books.contacts(rows=2)
    writer = XmlResultWriter(path, read_table(path))

    writer.set(6, RowResult(status="late"))
    writer.set(3, RowResult(status="sent"))
    writer.save()

    table = read_table(path)
    assert [(r.number, r.values[2]) for r in table.rows] == [(2, None), (3, "sent"), (6, "late")]


def test_dates_follow_a_1904_workbook(books: Books) -> None:
    path = books.contacts()
    books.patch_member(
        path,
        "xl/workbook.xml",
        lambda xml: xml.replace(b"<workbookPr ", b'<workbookPr date1904="1" '),
    )

    _save(path, (2, RowResult(sent_at=datetime(2024, 5, 1, 12, 30))))

    sheet = load_workbook(path).active
    assert isinstance(sheet, Worksheet)
    assert sheet["H2"].value == datetime(2024, 5, 1, 12, 30)


# -- what it does not handle goes to the openpyxl writer ------------------------------------


def _without_row_numbers(xml: bytes) -> bytes:
    return re.sub(rb'<row r="\d+"', b"<row", xml)


def _without_cell_references(xml: bytes) -> bytes:
    return re.sub(rb'<c r="[A-Z]+\d+"', b"<c", xml)


def _prefixed(xml: bytes) -> bytes:
    xml = re.sub(rb"<(/?)(?=[a-zA-Z])", rb"<\1x:", xml)
    return xml.replace(b"xmlns=", b"xmlns:x=", 1)


@pytest.mark.parametrize(
    "change", [_without_row_numbers, _without_cell_references, _prefixed], ids=lambda f: f.__name__
)
def test_sheet_xml_it_does_not_handle_falls_back_to_openpyxl(books: Books, change: object) -> None:
    path = books.contacts()
    books.patch_member(path, SHEET, change)  # type: ignore[arg-type]

    writer = _save(path, (2, SENT))

    assert type(writer) is ResultWriter
    assert read_table(path).rows[0].values[2] == "sent"


def test_a_formula_in_a_result_column_falls_back_to_openpyxl(books: Books) -> None:
    path = books.xlsx([["Telefon", "SMS status"], ["0701", "=A2"], ["0702", None]])

    with pytest.raises(Unsupported):
        XmlResultWriter(path, read_table(path))
    writer = _save(path, (3, SENT))

    assert type(writer) is ResultWriter


def test_a_shared_formula_over_a_result_column_falls_back(books: Books) -> None:
    path = books.xlsx([["Telefon", "Namn", "SMS id"], ["0701", "Anna", None], ["0702", "Bo", None]])
    books.patch_member(
        path,
        SHEET,
        lambda xml: re.sub(
            rb'<c r="B2".*?</c>', b'<c r="B2"><f t="shared" ref="B2:C3" si="0">A2</f></c>', xml
        ),
    )

    with pytest.raises(Unsupported):
        XmlResultWriter(path, read_table(path))


def test_unusable_files_are_refused_as_by_the_openpyxl_writer(books: Books, tmp_path: Path) -> None:
    bad = tmp_path / "trasig.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    table = read_table(books.contacts())

    with pytest.raises(Exception, match="damaged"):
        open_writer(bad, table)
