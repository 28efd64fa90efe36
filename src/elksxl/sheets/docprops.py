"""The campaign id a workbook carries: read it from the package, and patch the parts that hold it.

The id lives in the custom document property ``elksxl campaign`` (docProps/custom.xml, the same
property Office.js sets), else in a workbook-level defined name ``elksxl_campaign`` holding
``="<id>"``. Patching touches only our property: the user's other custom properties, and every
other byte of the parts, stay as they are.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from typing import Final
from xml.etree import ElementTree

from ..table import CAMPAIGN_NAME, CAMPAIGN_PROPERTY

__all__ = ["campaign_parts", "read_campaign_id"]

_MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_CUSTOM_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_CUSTOM_REL: Final = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)
_CUSTOM_TYPE: Final = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
# The format id every user-defined custom property carries (MS-OSHARED 2.3.3.2.1.1).
_FMTID: Final = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_DEFAULT_PART: Final = "docProps/custom.xml"

_Read = Callable[[str], bytes | None]


def read_campaign_id(archive: zipfile.ZipFile) -> str | None:
    """The campaign id stored in the workbook, or None. Damaged parts read as no id."""
    names = set(archive.namelist())

    def read(name: str) -> bytes | None:
        return archive.read(name) if name in names else None

    try:
        found = _from_property(read)
        return found if found is not None else _from_defined_name(read)
    except (ElementTree.ParseError, ValueError):
        return None


def _from_property(read: _Read) -> str | None:
    xml = read(_custom_part(read))
    if xml is None:
        return None
    for prop in ElementTree.fromstring(xml):
        if prop.get("name") == CAMPAIGN_PROPERTY:
            values = list(prop)
            return (values[0].text or "") if values else None
    return None


def _from_defined_name(read: _Read) -> str | None:
    xml = read("xl/workbook.xml")
    if xml is None:
        return None
    for name in ElementTree.fromstring(xml).iter(f"{{{_MAIN_NS}}}definedName"):
        if name.get("name") == CAMPAIGN_NAME and name.get("localSheetId") is None:
            text = (name.text or "").strip().removeprefix("=").strip()
            if len(text) >= 2 and text[0] == text[-1] == '"':
                return text[1:-1].replace('""', '"')
    return None


def _custom_part(read: _Read) -> str:
    rels = read("_rels/.rels")
    if rels is not None:
        for rel in ElementTree.fromstring(rels):
            if rel.get("Type") == _CUSTOM_REL and rel.get("TargetMode") != "External":
                return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return _DEFAULT_PART


def campaign_parts(read: _Read, campaign_id: str | None) -> dict[str, bytes]:
    """The package parts to replace or add so the workbook carries ``campaign_id``.

    ``read`` returns a part's bytes, or None when the package lacks it. None as the id removes
    our property. Creates docProps/custom.xml, its content type and its relationship when absent.
    """
    part = _custom_part(read)
    xml = read(part)
    if xml is None:
        if campaign_id is None:
            return {}
        text = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{_CUSTOM_NS}" xmlns:vt="{_VT_NS}">'
            f"{_property(campaign_id, 2, 'vt:')}</Properties>"
        )
        return {
            part: text.encode("utf-8"),
            **_add_content_type(read, part),
            **_add_relationship(read, part),
        }
    return {part: _replace_property(xml.decode("utf-8"), campaign_id).encode("utf-8")}


def _property(campaign_id: str, pid: int, vt: str, declare: str = "") -> str:
    return (
        f'<property fmtid="{_FMTID}" pid="{pid}" name="{CAMPAIGN_PROPERTY}"{declare}>'
        f"<{vt}lpwstr>{_escape(campaign_id)}</{vt}lpwstr></property>"
    )


_OURS: Final = re.compile(
    r"<(\w+:)?property\b[^>]*\sname=\"" + re.escape(CAMPAIGN_PROPERTY) + r"\"[^>]*>.*?"
    r"</\1?property>",
    re.S,
)


def _replace_property(xml: str, campaign_id: str | None) -> str:
    root = ElementTree.fromstring(xml)  # refuses a damaged part before it is patched
    xml = _OURS.sub("", xml)
    if campaign_id is None:
        return xml
    pids = [int(p.get("pid", "1")) for p in root if p.get("name") != CAMPAIGN_PROPERTY]
    closing = re.search(r"</(\w+:)?Properties>\s*$", xml)
    vt_prefix = re.search(r'xmlns:(\w+)="' + re.escape(_VT_NS) + '"', xml)
    if closing is None:  # an empty <Properties/>
        opening = re.search(r"<(\w+:)?Properties\b[^>]*?/>", xml)
        if opening is None:
            raise ValueError("custom properties without a Properties element")
        prefix = opening[1] or ""
        xml = xml[: opening.end() - 2] + f"></{prefix}Properties>" + xml[opening.end() :]
        closing = re.search(r"</(\w+:)?Properties>\s*$", xml)
        assert closing is not None
    prefix = closing[1] or ""
    vt = f"{vt_prefix[1]}:" if vt_prefix else "vt:"
    declare = "" if vt_prefix else f' xmlns:vt="{_VT_NS}"'
    new = _property(campaign_id, max([1, *pids]) + 1, vt, declare)
    if prefix:
        new = new.replace("<property", f"<{prefix}property").replace(
            "</property>", f"</{prefix}property>"
        )
    return xml[: closing.start()] + new + xml[closing.start() :]


def _add_content_type(read: _Read, part: str) -> dict[str, bytes]:
    name = "[Content_Types].xml"
    xml = (read(name) or b"").decode("utf-8")
    if f'PartName="/{part}"' in xml:
        return {}
    override = f'<Override PartName="/{part}" ContentType="{_CUSTOM_TYPE}"/>'
    at = xml.rindex("</Types>")
    return {name: (xml[:at] + override + xml[at:]).encode("utf-8")}


def _add_relationship(read: _Read, part: str) -> dict[str, bytes]:
    name = "_rels/.rels"
    xml = (read(name) or b"").decode("utf-8")
    ids = {rel.get("Id") for rel in ElementTree.fromstring(xml)} if xml else set()
    number = len(ids) + 1
    while f"rId{number}" in ids:
        number += 1
    rel = f'<Relationship Id="rId{number}" Type="{_CUSTOM_REL}" Target="{part}"/>'
    if not xml:
        xml = f'<Relationships xmlns="{_PKG_NS}"></Relationships>'
    at = xml.rindex("</Relationships>")
    return {name: (xml[:at] + rel + xml[at:]).encode("utf-8")}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
