"""The files a desktop Excel user needs for the "SMS" ribbon tab: written by ``elksxl excel setup``.

A VBA project (``xl/vbaProject.bin``) can only be produced by Excel itself, so this writes:

- ``elksxl-sms.xlsm``: a macro-enabled workbook with the "SMS" ribbon tab embedded
  (``customUI/customUI14.xml``), a sheet for the recipients, the named cells ``SMS_Message``
  and ``SMS_From``, and an ``xlwings.conf`` sheet naming ``elksxl.excel`` as its UDF module.
  It has no macros yet: the user imports ``elksxl.bas`` once (see ``INSTALL.md``);
- ``elksxl.bas``: our VBA module (a few lines calling xlwings' ``RunPython``);
- ``customUI14.xml``: the ribbon, for adding to another workbook or an add-in;
- ``INSTALL.md``: the steps for Windows and macOS.
"""

from __future__ import annotations

import io
import re
import zipfile
from importlib.resources import files
from pathlib import Path
from typing import Final

from .errors import ConfigError

__all__ = ["BAS_NAME", "CUSTOM_UI_NAME", "WORKBOOK_NAME", "custom_ui", "vba_module", "write_setup"]

WORKBOOK_NAME: Final = "elksxl-sms.xlsm"
BAS_NAME: Final = "elksxl.bas"
CUSTOM_UI_NAME: Final = "customUI14.xml"
INSTALL_NAME: Final = "INSTALL.md"

_CUSTOM_UI_PART: Final = "customUI/customUI14.xml"
# Office 2010+ ribbon XML (the 2009/07 customui schema) is found through this relationship.
_CUSTOM_UI_REL: Final = (
    '<Relationship Id="elksxlCustomUI" '
    'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
    'Target="customUI/customUI14.xml"/>'
)
_XLSX_MAIN: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_XLSM_MAIN: Final = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def _data(name: str) -> str:
    return files("elksxl").joinpath("data", "excel", name).read_text(encoding="utf-8")


def vba_module() -> str:
    """The VBA module text, with the CRLF line ends the VBA editor expects on import."""
    return _data(BAS_NAME).replace("\r\n", "\n").replace("\n", "\r\n")


def custom_ui() -> str:
    """The ribbon XML: an "SMS" tab whose buttons call the procedures in :func:`vba_module`."""
    return _data(CUSTOM_UI_NAME)


def write_setup(folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the desktop Excel files into ``folder`` (created if needed) and return their paths.

    Raises ConfigError when a file is already there, unless ``overwrite``.
    """
    folder = Path(folder)
    targets = [folder / n for n in (WORKBOOK_NAME, BAS_NAME, CUSTOM_UI_NAME, INSTALL_NAME)]
    existing = [path.name for path in targets if path.exists()]
    if existing and not overwrite:
        raise ConfigError(
            f"{', '.join(existing)} already in {folder}: choose another folder, or overwrite"
        )
    folder.mkdir(parents=True, exist_ok=True)
    workbook, bas, ui, install = targets
    workbook.write_bytes(ribbon_workbook())
    bas.write_bytes(vba_module().encode("utf-8"))
    ui.write_text(custom_ui(), encoding="utf-8")
    install.write_text(_data(INSTALL_NAME), encoding="utf-8")
    return targets


def ribbon_workbook() -> bytes:
    """The .xlsm bytes: a starter workbook with the ribbon part and no VBA project."""
    return _with_ribbon(_starter_workbook())


def _starter_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.workbook.defined_name import DefinedName

    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "Recipients"
    people.append(["Phone", "Name"])
    people.append(["+46700000000", "Example (replace me)"])
    people["A1"].font = people["B1"].font = Font(bold=True)
    people.column_dimensions["A"].width = people.column_dimensions["B"].width = 22
    settings = book.create_sheet("SMS")
    settings.append(["Message", "Hello {{ Name }}!"])
    settings.append(["From", "elksxl"])
    settings.append([])
    settings.append(["Select the rows on Recipients, then press Check or Send on the SMS tab."])
    settings.column_dimensions["A"].width = 12
    settings.column_dimensions["B"].width = 60
    for name, cell in (("SMS_Message", "$B$1"), ("SMS_From", "$B$2")):
        book.defined_names[name] = DefinedName(name, attr_text=f"SMS!{cell}")
    # xlwings reads its settings from a sheet with this name, before its config file.
    config = book.create_sheet("xlwings.conf")
    config.append(["UDF Modules", "elksxl.excel"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_ribbon(xlsx: bytes) -> bytes:
    """``xlsx`` as a macro-enabled package that carries the ribbon XML."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(_XLSX_MAIN.encode(), _XLSM_MAIN.encode())
            elif info.filename == "_rels/.rels":
                data = re.sub(rb"</Relationships>\s*$", _CUSTOM_UI_REL.encode() + rb"\g<0>", data)
            target.writestr(info, data)
        target.writestr(_CUSTOM_UI_PART, custom_ui().encode("utf-8"))
    return out.getvalue()
