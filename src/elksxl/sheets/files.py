"""Workbook files on disk: what kind of file a path holds, where results may be saved, atomic saves.

Every unusable file becomes a :class:`~elksxl.errors.WorkbookError` that names the file and says
what to do, before a spreadsheet library ever sees it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from ..errors import WorkbookError
from ..table import Table

__all__ = [
    "MACRO_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "atomic_save",
    "check_unique_headers",
    "check_workbook_file",
    "column_letter",
    "damaged",
    "is_read_only",
    "lock_file",
    "password_protected",
    "results_path",
]

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
MACRO_SUFFIXES = (".xlsm", ".xltm")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # OLE2 compound file: .xls, or an encrypted .xlsx
# An encrypted .xlsx is a compound file holding these streams (MS-OFFCRYPTO 2.3.4); the directory
# stores stream names in UTF-16LE.
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

_SAVE_AS_XLSX = "open it in Excel and save it as Excel Workbook (.xlsx)"
_PASSWORD = (
    "the workbook is protected with a password, so it cannot be read. "
    "Remove the password in Excel (File > Info > Protect Workbook > Encrypt with Password, "
    "clear the password) and save it"
)


def check_workbook_file(path: Path) -> None:
    """Raise WorkbookError unless ``path`` looks like a workbook elksxl can read and write.

    Looks at the first bytes, not only at the name: a CSV renamed to .xlsx or an encrypted
    workbook (an OLE2 compound file, not a zip) is caught here with a message saying what to do.
    """
    file = str(path)
    if not path.exists():
        raise WorkbookError("file not found: check the name and the folder", file=file)
    if path.is_dir():
        raise WorkbookError(
            "this is a folder, not a workbook: give the path of an .xlsx file", file=file
        )
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise WorkbookError(f"cannot be read ({e.strerror or e})", file=file) from e
    suffix = path.suffix.lower()
    if head.startswith(_ZIP_MAGIC):
        if suffix not in SUPPORTED_SUFFIXES:
            kind = f"{suffix} files" if suffix else "files without an extension"
            raise WorkbookError(
                f"elksxl works with .xlsx, .xlsm, .xltx and .xltm workbooks, not {kind}: "
                + _SAVE_AS_XLSX,
                file=file,
            )
        return
    if head.startswith(_CFB_MAGIC):
        if _contains(path, _ENCRYPTED_STREAM):
            raise password_protected(path)
        raise WorkbookError(
            "this is an old-format Excel 97-2003 workbook (.xls) or another old Office file: "
            + _SAVE_AS_XLSX,
            file=file,
        )
    if not head:
        raise WorkbookError("the file is empty (0 bytes), not a workbook", file=file)
    if _looks_like_text(head):
        raise WorkbookError(
            "this is a text file (CSV or similar), not an Excel workbook: " + _SAVE_AS_XLSX,
            file=file,
        )
    raise WorkbookError("this is not an Excel workbook: " + _SAVE_AS_XLSX, file=file)


def damaged(path: Path, detail: object) -> WorkbookError:
    """The error for a zip that is not a readable workbook (truncated, corrupt, not Excel)."""
    text = " ".join(str(detail).split())[:160]
    return WorkbookError(
        f"the workbook is damaged or not an Excel file ({text}): open it in Excel, "
        "let Excel repair it and save it again, or copy the original file again",
        file=str(path),
    )


def password_protected(path: Path) -> WorkbookError:
    """The error for a workbook encrypted with a password."""
    return WorkbookError(_PASSWORD, file=str(path))


def _contains(path: Path, needle: bytes, chunk: int = 1 << 20) -> bool:
    # Compound-file directory sectors can sit anywhere in the file, so scan all of it in chunks.
    overlap = len(needle) - 1
    tail = b""
    with path.open("rb") as f:
        while block := f.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-overlap:]
    return False


def _looks_like_text(head: bytes) -> bool:
    if head.startswith(_TEXT_BOMS):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls <= len(head) // 100


def lock_file(path: Path) -> Path | None:
    """The lock file Excel (``~$NAME``) or LibreOffice (``.~lock.NAME#``) keeps beside a file."""
    for name in (f"~${path.name}", f".~lock.{path.name}#"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def is_read_only(path: Path) -> bool:
    """True if ``path`` may not be changed: no write permission, or every write bit cleared.

    The write bits count even where the OS would let us (root, or a replace that only needs the
    directory): a file or folder marked read-only is the owner saying "do not change this".
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return True
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def results_path(original: Path, directory: Path) -> Path:
    """``NAME.results.xlsx`` (same extension as the original) in ``directory``."""
    return directory / f"{original.stem}.results{original.suffix}"


def atomic_save(write: Callable[[BinaryIO], None], target: Path, *, mode: int) -> None:
    """Write a file with ``write`` and move it onto ``target`` in one step.

    The bytes go to ``NAME.tmp-XXXX.EXT`` in the target's folder, are flushed to disk, and then
    replace the target with ``os.replace``, so a crash at any moment leaves either the old file
    or the new one, never a half-written workbook.
    """
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{target.stem}.tmp-", suffix=target.suffix, dir=target.parent
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory, and NTFS
    # journals the rename anyway.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_unique_headers(
    names: Sequence[str],
    row: int,
    first_column: int = 1,
    *,
    file: str | None = None,
    sheet: str | None = None,
) -> None:
    """WorkbookError naming both cells when two columns share a header (blanks may repeat)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            first = f"{column_letter(first_column + seen[name])}{row}"
            second = f"{column_letter(first_column + i)}{row}"
            raise WorkbookError(
                f"two columns have the header {name!r} ({first} and {second}): "
                "rename one of them so each column has its own name",
                file=file,
                sheet=sheet,
                cell=second,
                row=row,
            )
        seen[name] = i


def column_letter(column: int) -> str:
    """Excel column letters for a 1-based column number: 1 -> A, 28 -> AB."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_changed(
    path: Path, table: Table, column: int, found: str, expected: str
) -> WorkbookError:
    """The header row no longer matches the table that was read: rows may have moved."""
    return WorkbookError(
        f"the header row changed since the workbook was read (cell "
        f"{column_letter(column)}{table.header_row} is {found!r}, was {expected!r}): "
        "read the workbook again before writing results",
        file=str(path),
        sheet=table.sheet,
    )
