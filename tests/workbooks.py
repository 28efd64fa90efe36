"""Workbook builders for tests: files with cached formula values, OLE2 compound files, damage.

Shared by the sheet adapter tests and the command-line tests (``from workbooks import Books``).
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook


class Books:
    """Makes workbook files in one temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def xlsx(
        self,
        rows: Sequence[Sequence[Any]],
        name: str = "book.xlsx",
        *,
        sheet: str = "Kontakter",
        start_row: int = 1,
        start_column: int = 1,
    ) -> Path:
        """A one-sheet workbook holding ``rows`` from the given top-left cell."""
        book = Workbook()
        ws = book.active
        assert ws is not None
        ws.title = sheet
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if value is not None:
                    ws.cell(start_row + r, start_column + c, value)
        return self.save(book, name)

    def save(self, book: Workbook, name: str = "book.xlsx") -> Path:
        path = self.folder / name
        book.save(path)
        return path

    def contacts(self, name: str = "book.xlsx", rows: int = 3) -> Path:
        """Telefon/Förnamn with ``rows`` recipients."""
        data: list[list[Any]] = [["Telefon", "Förnamn"]]
        data += [[f"070-123 45 {i:02d}", f"Namn{i}"] for i in range(rows)]
        return self.xlsx(data, name)

    @staticmethod
    def patch_member(path: Path, member: str, change: Callable[[bytes], bytes]) -> None:
        """Rewrite one part of a zip (workbook) file in place."""
        with zipfile.ZipFile(path) as src:
            parts = [(info, src.read(info.filename)) for info in src.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            for info, data in parts:
                dst.writestr(info, change(data) if info.filename == member else data)

    @staticmethod
    def add_member(path: Path, member: str, data: bytes) -> None:
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as dst:
            dst.writestr(member, data)

    @staticmethod
    def set_cached_value(xml: bytes, ref: str, value: str, *, text: bool = False) -> bytes:
        """Give an openpyxl-written formula cell (``<f>..</f><v />``) a cached result."""
        start = b'<c r="' + ref.encode() + b'"'
        pattern = re.compile(re.escape(start) + rb"([^>]*)><f>(.*?)</f><v\s*/>")
        kind = b' t="str"' if text else b""
        cached = value.encode()
        new, count = pattern.subn(
            lambda m: start + m[1] + kind + b"><f>" + m[2] + b"</f><v>" + cached + b"</v>",
            xml,
        )
        assert count == 1, f"no formula cell {ref}"
        return new

    @staticmethod
    def compound_file(path: Path, streams: Sequence[str]) -> Path:
        """A minimal valid OLE2 compound file holding empty streams with these names.

        An .xls holds a "Workbook" stream; a password-encrypted .xlsx holds "EncryptionInfo" and
        "EncryptedPackage" (MS-OFFCRYPTO).
        """
        free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
        header = bytearray(512)
        header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
        struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
        struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end)
        struct.pack_into("<I", header, 68, 0)  # DIFAT: no DIFAT sectors
        struct.pack_into("<I", header, 76, 0)  # the FAT is sector 0
        for i in range(1, 109):
            struct.pack_into("<I", header, 76 + 4 * i, free)
        fat = struct.pack("<II", fat_sector, end) + struct.pack("<I", free) * 126

        def entry(name: str, kind: int, child: int, right: int) -> bytes:
            raw = name.encode("utf-16-le") + b"\0\0"
            out = bytearray(128)
            out[0 : len(raw)] = raw
            struct.pack_into("<HBB", out, 64, len(raw), kind, 1)
            struct.pack_into("<III", out, 68, no_stream, right, child)
            struct.pack_into("<II", out, 116, end, 0)
            return bytes(out)

        entries = [entry("Root Entry", 5, 1 if streams else no_stream, no_stream)]
        for i, name in enumerate(streams, start=1):
            entries.append(entry(name, 2, no_stream, i + 1 if i < len(streams) else no_stream))
        directory = b"".join(entries).ljust(512, b"\0")
        path.write_bytes(bytes(header) + fat + directory)
        return path
