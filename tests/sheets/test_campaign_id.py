"""The campaign id a workbook carries: written by both writers, read by the reader, kept by others.

The id is the custom document property ``elksxl campaign``; a workbook-level defined name
``elksxl_campaign`` is read as a fallback.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import xlsxwriter
from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.workbook.defined_name import DefinedName

from elksxl.sheets import ResultWriter, RowResult, WorkbookWriter, XmlResultWriter, read_table
from elksxl.table import CAMPAIGN_NAME, CAMPAIGN_PROPERTY

if TYPE_CHECKING:
    from conftest import Books

WRITERS = pytest.mark.parametrize(
    "writer_class", [ResultWriter, XmlResultWriter], ids=["openpyxl", "xml"]
)


def _store(writer_class: type[WorkbookWriter], path: Path, campaign_id: str | None) -> None:
    writer = writer_class(path, read_table(path))  # type: ignore[call-arg]
    writer.set_campaign_id(campaign_id)
    writer.set(2, RowResult(status="sent"))
    writer.save()


def _custom_properties(path: Path) -> dict[str, Any]:
    book: Any = load_workbook(path)
    return {p.name: p.value for p in book.custom_doc_props.props}


def test_a_workbook_without_an_id_reads_as_none(books: Books) -> None:
    assert read_table(books.contacts()).campaign_id is None


@WRITERS
def test_the_id_round_trips_through_the_writer(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = books.contacts()

    _store(writer_class, path, "c-2024-05-01 & <x>")

    assert read_table(path).campaign_id == "c-2024-05-01 & <x>"
    assert _custom_properties(path) == {CAMPAIGN_PROPERTY: "c-2024-05-01 & <x>"}


@WRITERS
def test_an_id_written_once_is_replaced_not_repeated(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = books.contacts()
    _store(writer_class, path, "first")

    _store(writer_class, path, "second")

    assert read_table(path).campaign_id == "second"
    with zipfile.ZipFile(path) as archive:
        assert archive.read("docProps/custom.xml").count(CAMPAIGN_PROPERTY.encode()) == 1


@WRITERS
def test_other_custom_properties_are_kept(books: Books, writer_class: type[WorkbookWriter]) -> None:
    book: Any = Workbook()
    book.active.append(["Telefon", "Namn"])
    book.active.append(["0701", "Anna"])
    book.custom_doc_props.append(StringProperty(name="Avdelning", value="Ekonomi"))
    book.custom_doc_props.append(IntProperty(name="Version", value=3))
    path = books.save(book)

    _store(writer_class, path, "c1")

    expected = {"Avdelning": "Ekonomi", "Version": 3, CAMPAIGN_PROPERTY: "c1"}
    assert _custom_properties(path) == expected


@WRITERS
def test_none_removes_only_our_property(books: Books, writer_class: type[WorkbookWriter]) -> None:
    book: Any = Workbook()
    book.active.append(["Telefon"])
    book.active.append(["0701"])
    book.custom_doc_props.append(StringProperty(name="Avdelning", value="Ekonomi"))
    path = books.save(book)
    _store(writer_class, path, "c1")

    _store(writer_class, path, None)

    assert read_table(path).campaign_id is None
    assert _custom_properties(path) == {"Avdelning": "Ekonomi"}


@WRITERS
def test_a_save_without_set_campaign_id_keeps_the_id(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = books.contacts()
    _store(writer_class, path, "c1")

    writer = writer_class(path, read_table(path))  # type: ignore[call-arg]
    writer.set(3, RowResult(status="sent"))
    writer.save()

    assert read_table(path).campaign_id == "c1"


@WRITERS
def test_the_id_survives_a_save_by_openpyxl(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = books.contacts()
    _store(writer_class, path, "c1")

    load_workbook(path).save(path)

    assert read_table(path).campaign_id == "c1"


@WRITERS
def test_the_id_is_added_to_an_excel_layout_workbook_with_its_own_properties(
    books: Books, writer_class: type[WorkbookWriter]
) -> None:
    path = books.folder / "excel.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Kontakter")
    sheet.write_row(0, 0, ["Telefon", "Namn"])
    sheet.write_row(1, 0, ["0701", "Anna"])
    book.set_custom_property("Kund", "Acme")
    book.close()

    _store(writer_class, path, "c1")

    assert read_table(path).campaign_id == "c1"
    assert _custom_properties(path) == {"Kund": "Acme", CAMPAIGN_PROPERTY: "c1"}


def test_the_package_gets_the_part_its_content_type_and_relationship(books: Books) -> None:
    path = books.contacts()

    _store(XmlResultWriter, path, "c1")

    with zipfile.ZipFile(path) as archive:
        assert b'PartName="/docProps/custom.xml"' in archive.read("[Content_Types].xml")
        assert b'Target="docProps/custom.xml"' in archive.read("_rels/.rels")


def test_the_id_is_read_from_a_defined_name_when_there_is_no_property(books: Books) -> None:
    book = Workbook()
    assert book.active is not None
    book.active.append(["Telefon"])
    book.defined_names[CAMPAIGN_NAME] = DefinedName(CAMPAIGN_NAME, attr_text='="c-""7"""')
    path = books.save(book)

    assert read_table(path).campaign_id == 'c-"7"'


def test_the_property_wins_over_the_defined_name(books: Books) -> None:
    book = Workbook()
    assert book.active is not None
    book.active.append(["Telefon"])
    book.active.append(["0701"])
    book.defined_names[CAMPAIGN_NAME] = DefinedName(CAMPAIGN_NAME, attr_text='"old"')
    path = books.save(book)

    _store(XmlResultWriter, path, "new")

    assert read_table(path).campaign_id == "new"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@WRITERS
def test_libreoffice_opens_the_workbook_and_keeps_the_id(
    books: Books, writer_class: type[WorkbookWriter], tmp_path: Path
) -> None:
    path = books.contacts()
    _store(writer_class, path, "c1")
    out = tmp_path / "out"

    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )

    again = read_table(out / path.name)
    assert again.campaign_id == "c1"
    assert again.rows[0].values[2] == "sent"
