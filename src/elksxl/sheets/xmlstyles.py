"""The cell formats of a workbook (xl/styles.xml), read and extended as text.

:class:`Styles` answers what the XML writer asks of a cell format (is it General, a date, is its
font bold) and appends the formats it needs: a number format, a bold font. Existing entries keep
their exact text and index, so every other cell looks as before.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Final

from .xmlparts import Unsupported

__all__ = ["Styles", "attrs", "escape", "set_attrs"]

_ATTR: Final = re.compile(r'([\w:]+)="([^"]*)"')
_BUILTIN_DATES: Final = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_NUMFMTS: Final = re.compile(r"<numFmts\b[^>]*?(?:/>|>(.*?)</numFmts>)", re.S)
_NUMFMT: Final = re.compile(r"<numFmt\b[^>]*?/>|<numFmt\b[^>]*>.*?</numFmt>", re.S)
_FONTS: Final = re.compile(r"<fonts\b[^>]*>(.*?)</fonts>", re.S)
_FONT: Final = re.compile(r"<font\b[^>]*?(?:/>|>.*?</font>)", re.S)
_XFS: Final = re.compile(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF: Final = re.compile(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)
_BOLD: Final = re.compile(r'<b(?:\s+val="(\w+)")?\s*/>')


class Styles:
    """Number formats, fonts and cell formats of styles.xml; appends new ones as text."""

    def __init__(self, xml: str) -> None:
        if re.search(r"<\w+:styleSheet\b", xml) or "<styleSheet" not in xml:
            raise Unsupported("prefixed or missing styleSheet")
        fonts, xfs = _FONTS.search(xml), _XFS.search(xml)
        if fonts is None or xfs is None:
            raise Unsupported("styles without fonts or cellXfs")
        self.xml = xml
        numfmts = _NUMFMTS.search(xml)
        self.numfmts: list[str] = _NUMFMT.findall(numfmts[1] or "") if numfmts else []
        self.fonts: list[str] = _FONT.findall(fonts[1])
        self.xfs: list[str] = _XF.findall(xfs[1])
        self._codes = {}
        for element in self.numfmts:
            found = attrs(element)
            self._codes[int(found.get("numFmtId", "-1"))] = unescape(found.get("formatCode", ""))
        self.added = False

    def copy(self) -> Styles:
        other = object.__new__(Styles)
        other.__dict__.update(self.__dict__)
        other.numfmts, other.fonts, other.xfs = list(self.numfmts), list(self.fonts), list(self.xfs)
        other._codes = dict(self._codes)
        return other

    def _xf(self, index: int) -> dict[str, str]:
        if not 0 <= index < len(self.xfs):
            raise Unsupported(f"cell style {index} does not exist")
        return attrs(self.xfs[index])

    def number_format(self, index: int) -> int:
        return int(self._xf(index).get("numFmtId", "0"))

    def is_general(self, index: int) -> bool:
        fmt = self.number_format(index)
        return fmt == 0 or self._codes.get(fmt, "").lower() == "general"

    def is_date(self, index: int) -> bool:
        fmt = self.number_format(index)
        if fmt in _BUILTIN_DATES:
            return True
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", self._codes.get(fmt, ""))
        return bool(re.search(r"[dmyhs]", code, re.I))

    def bold(self, index: int) -> int:
        """A cell format like ``index`` whose font is bold (``index`` itself if it is)."""
        font_id = int(self._xf(index).get("fontId", "0"))
        if not 0 <= font_id < len(self.fonts):
            raise Unsupported(f"font {font_id} does not exist")
        font = self.fonts[font_id]
        mark = _BOLD.search(font)
        if mark and (mark[1] or "1").lower() in ("1", "true"):
            return index
        font = _BOLD.sub("", font)
        if font.endswith("/>") and font[:5] == "<font" and ">" not in font[:-2]:
            font = font[:-2].rstrip() + "><b/></font>"
        else:
            start = font.index(">") + 1
            font = font[:start] + "<b/>" + font[start:]
        new_font = self._add(self.fonts, font)
        xf = set_attrs(self.xfs[index], fontId=str(new_font), applyFont="1")
        return self._add(self.xfs, xf)

    def with_format(self, index: int | None, code: str) -> int:
        """A cell format like ``index`` (a new, plain one if None) showing numbers as ``code``."""
        fmt = self._format_id(code)
        if index is None:
            xf = (
                f'<xf numFmtId="{fmt}" fontId="0" fillId="0" borderId="0" xfId="0"'
                ' applyNumberFormat="1"/>'
            )
        else:
            self._xf(index)
            xf = set_attrs(self.xfs[index], numFmtId=str(fmt), applyNumberFormat="1")
        return self._add(self.xfs, xf)

    def _format_id(self, code: str) -> int:
        for fmt, known in self._codes.items():
            if known == code:
                return fmt
        fmt = max([163, *self._codes]) + 1
        self._codes[fmt] = code
        self.numfmts.append(f'<numFmt numFmtId="{fmt}" formatCode="{escape(code, quote=True)}"/>')
        self.added = True
        return fmt

    def _add(self, elements: list[str], element: str) -> int:
        # The same element again (from an earlier run) is reused, so formats do not pile up.
        if element in elements:
            return elements.index(element)
        elements.append(element)
        self.added = True
        return len(elements) - 1

    def render(self) -> bytes | None:
        """The new styles.xml, or None when nothing was added."""
        if not self.added:
            return None
        xml = _replace_section(self.xml, _FONTS, "fonts", self.fonts)
        xml = _replace_section(xml, _XFS, "cellXfs", self.xfs)
        numfmts = f'<numFmts count="{len(self.numfmts)}">{"".join(self.numfmts)}</numFmts>'
        if _NUMFMTS.search(xml):
            xml = _NUMFMTS.sub(lambda _: numfmts, xml, count=1)
        elif self.numfmts:
            opening = re.search(r"<styleSheet\b[^>]*>", xml)
            assert opening is not None  # checked in __init__
            xml = xml[: opening.end()] + numfmts + xml[opening.end() :]
        return xml.encode("utf-8")


def _replace_section(xml: str, pattern: re.Pattern[str], name: str, elements: list[str]) -> str:
    match = pattern.search(xml)
    assert match is not None  # checked in __init__
    opening = xml[match.start() : xml.index(">", match.start()) + 1]
    opening = set_attrs(opening, count=str(len(elements)))
    return xml[: match.start()] + opening + "".join(elements) + f"</{name}>" + xml[match.end() :]


def attrs(element: str) -> dict[str, str]:
    return dict(_ATTR.findall(element[: element.index(">") + 1]))


def set_attrs(element: str, **values: str) -> str:
    end = element.index(">")
    if element[end - 1] == "/":
        end -= 1
    tag = element[:end]
    for name, value in values.items():
        new, count = re.subn(rf'(\s{name}=)"[^"]*"', rf'\1"{value}"', tag)
        tag = new if count else f'{tag.rstrip()} {name}="{value}"'
    return tag + element[end:]


def escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text
