"""The desktop files: a ribbon whose every button calls a procedure of our VBA module, in a
workbook that opens."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from elksxl.errors import ConfigError
from elksxl.excel_setup import custom_ui, vba_module, write_setup

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


def procedures(vba: str) -> set[str]:
    return set(re.findall(r"(?im)^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(", vba))


def test_custom_ui_is_well_formed_and_every_on_action_is_a_vba_procedure() -> None:
    root = ElementTree.fromstring(custom_ui().encode())
    assert root.tag == f"{UI}customUI"
    actions = {e.get("onAction") for e in root.iter() if e.get("onAction")}
    assert actions == {"ElksCheck", "ElksSend", "ElksImportFunctions"}
    assert actions <= procedures(vba_module())
    labels = {e.get("label") for e in root.iter(f"{UI}tab")}
    assert labels == {"SMS"}
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_ribbon_callbacks_take_the_ribbon_control_and_macros_call_run_python() -> None:
    vba = vba_module()
    for name in ("ElksCheck", "ElksSend", "ElksImportFunctions"):
        assert re.search(rf"Sub {name}\(control As IRibbonControl\)", vba)
    assert 'RunPython "import elksxl.excel; elksxl.excel.send_selection()"' in vba
    assert 'RunPython "import elksxl.excel; elksxl.excel.check_selection()"' in vba
    assert vba.startswith('Attribute VB_Name = "elksxl"\r\n')
    assert "\n" not in vba.replace("\r\n", "")  # CRLF only: what the VBA editor imports


def test_write_setup_writes_the_four_files_and_refuses_to_overwrite(tmp_path: Path) -> None:
    written = write_setup(tmp_path / "SMS")
    assert [p.name for p in written] == [
        "elksxl-sms.xlsm",
        "elksxl.bas",
        "customUI14.xml",
        "INSTALL.md",
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert written[1].read_bytes().decode() == vba_module()
    with pytest.raises(ConfigError, match=r"elksxl-sms\.xlsm"):
        write_setup(tmp_path / "SMS")
    assert write_setup(tmp_path / "SMS", overwrite=True) == written


def test_generated_workbook_carries_the_ribbon_and_is_macro_enabled(tmp_path: Path) -> None:
    workbook = write_setup(tmp_path)[0]
    with zipfile.ZipFile(workbook) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        types = archive.read("[Content_Types].xml").decode()
        rels = ElementTree.fromstring(archive.read("_rels/.rels"))
        ui = archive.read("customUI/customUI14.xml").decode()
    assert "customUI/customUI14.xml" in names
    assert ui == custom_ui()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    assert 'Extension="xml"' in types  # the ribbon part has a content type
    targets = {r.get("Type"): r.get("Target") for r in rels}
    ribbon = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
    assert targets[ribbon] == "customUI/customUI14.xml"


def test_generated_workbook_opens_in_openpyxl_with_names_and_udf_config(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_setup(tmp_path)[0], keep_vba=True)
    assert book.sheetnames == ["Recipients", "SMS", "xlwings.conf"]
    assert book["Recipients"]["A1"].value == "Phone"
    message = book.defined_names["SMS_Message"]
    assert message.attr_text == "SMS!$B$1"
    assert book["SMS"]["B1"].value == "Hello {{ Name }}!"
    assert book["xlwings.conf"]["A1"].value == "UDF Modules"
    assert book["xlwings.conf"]["B1"].value == "elksxl.excel"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_generated_workbook_opens_in_libreoffice(tmp_path: Path) -> None:
    workbook = write_setup(tmp_path / "in")[0]
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "csv", "--outdir", str(out), str(workbook)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (out / "elksxl-sms.csv").read_text().startswith("Phone,Name")
