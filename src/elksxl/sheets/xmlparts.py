"""The parts of a workbook package the XML writer and the reader need, found without a library.

Which zip member holds a sheet (through xl/workbook.xml and its relationships), its styles,
shared strings and Excel tables; the shared strings themselves, read lazily; cell references.
Anything laid out otherwise than these functions expect raises :class:`Unsupported`.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.etree import ElementTree

from ..errors import WorkbookError

__all__ = [
    "MAIN_NS",
    "Parts",
    "SharedStrings",
    "Unsupported",
    "column_number",
    "locate",
    "relationships",
    "span",
]

MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_REF: Final = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


class Unsupported(Exception):
    """The workbook has something the XML code does not handle (the openpyxl writer does)."""


@dataclass(frozen=True)
class Parts:
    """Zip member names for one sheet: the sheet, styles, shared strings, its Excel tables."""

    sheet: str
    styles: str
    strings: str | None
    date1904: bool
    tables: tuple[str, ...] = ()


def locate(archive: zipfile.ZipFile, sheet_name: str, path: Path) -> Parts:
    """Sheet name -> r:id (xl/workbook.xml) -> part name (xl/_rels/workbook.xml.rels)."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        raise Unsupported("the workbook part is not xl/workbook.xml")
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    if book.tag != f"{{{MAIN_NS}}}workbook":
        raise Unsupported("not a transitional SpreadsheetML workbook")
    pr = book.find(f"{{{MAIN_NS}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    sheets = [
        (s.get("name", ""), s.get(f"{{{REL_NS}}}id", "")) for s in book.iter(f"{{{MAIN_NS}}}sheet")
    ]
    rels = relationships(archive, "xl/workbook.xml")
    ids = dict(sheets)
    if sheet_name not in ids:
        listed = ", ".join(repr(n) for n, _ in sheets)
        raise WorkbookError(
            f"there is no sheet named {sheet_name!r}; the sheets are: {listed}", file=str(path)
        )
    kind, sheet = rels.get(ids[sheet_name], ("", ""))
    if kind == "chartsheet":
        raise WorkbookError("this is a chart sheet, not a sheet with cells", file=str(path))
    styles = [part for kind, part in rels.values() if kind == "styles"]
    strings = [part for kind, part in rels.values() if kind == "sharedStrings"]
    if kind != "worksheet" or sheet not in names or len(styles) != 1 or styles[0] not in names:
        raise Unsupported("sheet or styles part not found")
    tables = tuple(part for kind, part in relationships(archive, sheet).values() if kind == "table")
    if any(t not in names for t in tables):
        raise Unsupported("a table part is missing")
    return Parts(
        sheet,
        styles[0],
        strings[0] if strings and strings[0] in names else None,
        date1904,
        tables,
    )


def relationships(archive: zipfile.ZipFile, owner: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (kind such as "worksheet", zip member) of one part's internal links."""
    folder, name = posixpath.split(owner)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    try:
        xml = archive.read(rels_name)
    except KeyError:
        return {}
    found = {}
    for rel in ElementTree.fromstring(xml):
        if rel.tag == f"{{{PKG_NS}}}Relationship" and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[rel.get("Id", "")] = (
                rel.get("Type", "").rsplit("/", 1)[-1],
                posixpath.normpath(part),
            )
    return found


class SharedStrings:
    """The shared strings the header row needs, read lazily and only up to the last one asked."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None) -> None:
        self._archive = archive
        self._name = name

    def texts(self, wanted: set[int]) -> dict[int, str]:
        if not wanted:
            return {}
        if self._name is None:
            raise Unsupported("a shared string without a shared string table")
        found: dict[int, str] = {}
        last = max(wanted)
        index = -1
        with self._archive.open(self._name) as stream:
            for _, element in ElementTree.iterparse(stream, events=("end",)):
                if element.tag != f"{{{MAIN_NS}}}si":
                    continue
                index += 1
                if index in wanted:
                    found[index] = _si_text(element)
                element.clear()
                if index >= last:
                    break
        if len(found) != len(wanted):
            raise Unsupported("a shared string index beyond the table")
        return found


def _si_text(si: ElementTree.Element) -> str:
    parts = []
    for child in si:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child.iter(f"{{{MAIN_NS}}}t"))
    return "".join(parts)


def column_number(letters: bytes | str) -> int:
    """1-based column number of Excel column letters: A -> 1, AB -> 28."""
    number = 0
    for char in letters if isinstance(letters, str) else letters.decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number


def span(ref: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row) of "A1" or "A1:C3"."""
    corners = [_REF.fullmatch(part.strip()) for part in ref.split(":")]
    if not corners or len(corners) > 2 or any(c is None for c in corners):
        raise Unsupported(f"cell range {ref!r}")
    cols = [column_number(c[1]) for c in corners if c]
    rows = [int(c[2]) for c in corners if c]
    return min(cols), min(rows), max(cols), max(rows)
