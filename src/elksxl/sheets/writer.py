"""Write send results into the result columns of a workbook file and save it atomically.

:class:`ResultWriter` loads the workbook once with openpyxl (formulas stay formulas, macros and
external links are kept), finds or creates the result columns, writes only their cells, and
saves as often as asked, each time by replacing the file in one step.

Decisions worth knowing:

- A ``None`` field in :class:`RowResult` leaves its cell as it is, so a delivery report can
  update two cells without touching the rest; an empty string clears a text cell.
- Text from outside (error bodies, ids) is always stored as text: ``=cmd|...`` or ``#N/A``
  never becomes a formula or an error value. Control characters Excel cannot store are dropped.
- ``SMS cost`` is a number (format ``0.00##`` unless the cell already has a format).
  ``SMS sent at`` / ``SMS delivered at`` are Excel date-times in this computer's local time
  zone (Excel has no time zones), format ``yyyy-mm-dd hh:mm:ss`` unless the cell already has
  a date format.
- New result columns go right of every used cell at or below the header row, so no user cell
  is ever overwritten; they copy the style of the last header cell, in bold.
- When the workbook is open in Excel or LibreOffice (its lock file is present), read-only,
  in a read-only folder, or was changed on disk since it was loaded, results go to
  ``NAME.results.xlsx`` beside it (or in the current folder when its folder is read-only)
  and stay there for the rest of the run. :attr:`ResultWriter.target` tells where.
- openpyxl cannot keep everything: it drops cached formula results (Excel recalculates on
  open, but a headless re-read sees those cells empty), shapes, and, without Pillow, images.
  Its warnings are kept in :attr:`ResultWriter.warnings` for the caller to show.
"""

from __future__ import annotations

import gc
import importlib.util
import io
import re
import stat
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import WorkbookError
from ..table import RowResult, Table
from .files import (
    MACRO_SUFFIXES,
    atomic_save,
    check_workbook_file,
    column_letter,
    damaged,
    is_read_only,
    lock_file,
    results_path,
)

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["ResultWriter", "RowResult"]


class ResultWriter:
    """Holds one workbook open in memory, writes result cells, saves atomically on request."""

    def __init__(self, path: Path, table: Table) -> None:
        # openpyxl is imported here, not at module level: it costs ~25 MB and 0.2 s, and runs
        # that only read (plan, preview) must not pay for it.
        from .columns import Filler, place_columns

        self.path = Path(path)
        self._header_row = table.header_row
        # Taken before loading, so a change made while we load also counts as someone else's.
        self._stamp = _stamp(self.path)
        self._book, self._warnings = _load(self.path)
        self._sheet = _find_sheet(self._book, table, self.path)
        self._columns = place_columns(self._sheet, table, self.path)
        self._filler = Filler(self._sheet, self._columns)
        self._target = self.path
        self._reason: str | None = None

    @property
    def target(self) -> Path:
        """Where the next save goes: the workbook itself, or ``NAME.results.xlsx``."""
        return self._target

    @property
    def fallback_reason(self) -> str | None:
        """Why results go to another file than the workbook (None while they do not)."""
        return self._reason

    @property
    def warnings(self) -> tuple[str, ...]:
        """What openpyxl said it cannot keep, for the caller to show."""
        return self._warnings

    @property
    def columns(self) -> dict[str, str]:
        """Result column header -> Excel column letter."""
        return {name: column_letter(col) for name, col in self._columns.items()}

    def set(self, row: int, result: RowResult) -> None:
        """Write ``result`` into the result cells of Excel row ``row`` (None = leave as is)."""
        if row <= self._header_row:
            raise ValueError(f"row {row} is not below the header row {self._header_row}")
        self._filler.put(
            row,
            (
                result.status,
                result.sms_id,
                result.parts,
                result.cost,
                result.error,
                result.sent_at,
                result.delivered_at,
            ),
        )

    def save(self) -> Path:
        """Save atomically to :attr:`target` and return it."""
        if self._target == self.path:
            reason = self._refusal()
            if reason:
                self._fall_back(reason)
        else:
            lock = lock_file(self._target)
            if lock:
                raise WorkbookError(
                    f"the results file is open in Excel (lock file {lock.name}): close it, "
                    "then save again",
                    file=str(self._target),
                )
        try:
            self._save_to(self._target)
        except PermissionError as e:
            if self._target != self.path:
                raise _cannot_save(self._target, e) from e
            # Windows refuses to replace a file that another program holds open.
            self._fall_back(f"it could not be replaced ({e.strerror or e})")
            try:
                self._save_to(self._target)
            except OSError as again:
                raise _cannot_save(self._target, again) from again
        except OSError as e:
            raise _cannot_save(self._target, e) from e
        return self._target

    def _refusal(self) -> str | None:
        lock = lock_file(self.path)
        if lock:
            return f"it is open in Excel or LibreOffice (lock file {lock.name})"
        if _stamp(self.path) != self._stamp:
            return "it was changed by another program after elksxl opened it"
        if is_read_only(self.path):
            return "it is read-only"
        if is_read_only(self.path.parent):
            return "its folder is read-only"
        return None

    def _fall_back(self, reason: str) -> None:
        folder = self.path.parent
        if is_read_only(folder):
            folder = Path.cwd()
            if is_read_only(folder):
                raise WorkbookError(
                    f"cannot save the results: {reason}, and neither its folder nor the "
                    "current folder can be written; copy the workbook somewhere writable",
                    file=str(self.path),
                )
        self._target = results_path(self.path, folder)
        self._reason = reason

    def _real_target(self, target: Path) -> tuple[Path, int]:
        """The file to replace (through a symbolic link) and the permissions it should get."""
        try:
            mode = stat.S_IMODE((target if target.exists() else self.path).stat().st_mode)
        except OSError:
            mode = 0o644
        if target != self.path:
            mode |= stat.S_IWUSR  # a copy of a read-only workbook should be writable
        # Replace the file a symbolic link points to, not the link itself.
        return (target.resolve() if target.is_symlink() else target), mode

    def _save_to(self, target: Path) -> None:
        real, mode = self._real_target(target)
        with _captured(self._warnings) as said, _bulk():
            atomic_save(self._book.save, real, mode=mode)
        self._warnings = said.result()
        if target == self.path:
            self._stamp = _stamp(target)


def _cannot_save(target: Path, error: OSError) -> WorkbookError:
    return WorkbookError(
        f"cannot save ({error.strerror or error}): check the disk and folder permissions",
        file=str(target),
    )


class _Said:
    def __init__(self, earlier: Sequence[str]) -> None:
        self.messages = list(earlier)

    def result(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.messages))


@contextmanager
def _captured(earlier: Sequence[str] = ()) -> Iterator[_Said]:
    """Collect openpyxl's warnings (features it drops) instead of letting them escape."""
    said = _Said(earlier)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield said
    said.messages.extend(str(w.message) for w in caught)


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while openpyxl builds or writes a whole workbook.

    A large sheet is millions of long-lived objects; every full collection walks all of them,
    which costs about a quarter of load and save time. Reference counting still frees memory;
    the collector's previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(path: Path) -> tuple[Workbook, tuple[str, ...]]:
    check_workbook_file(path)
    from openpyxl import load_workbook

    with _captured() as said, _bulk():
        try:
            rich, images = _inspect(path)
            book = load_workbook(
                path,
                keep_vba=path.suffix.lower() in MACRO_SUFFIXES,
                keep_links=True,
                # Keeping mixed formatting inside cells costs ~10% more load time, so only
                # when the workbook has some.
                rich_text=rich,
            )
        except Exception as e:  # openpyxl reports damage as any of a dozen exception types
            raise damaged(path, e) from e
        _seal_macros(book)
    if images and importlib.util.find_spec("PIL") is None:
        said.messages.append("images in the workbook will be lost: install Pillow to keep them")
    return book, said.result()


def _seal_macros(book: Workbook) -> None:
    """Turn openpyxl's in-memory copy of the macro parts into a read-only zip.

    openpyxl keeps them in a zip opened for appending on a BytesIO. When the workbook is
    garbage-collected as a cycle, the BytesIO may be closed before the zip, whose finalizer then
    fails writing its directory ("Exception ignored in ZipFile.__del__"). A read-only zip over
    the same bytes has nothing to write; openpyxl only reads from it.
    """
    archive = book.vba_archive
    buffer = archive.fp if archive is not None else None
    if archive is None or not isinstance(buffer, io.BytesIO):
        return
    archive.close()  # writes the zip directory; a passed-in file object stays open
    book.vba_archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


# A formatting run inside a shared string (<si><r>) or an inline string (<is><r>).
_RICH_RUN = re.compile(rb"<(?:\w+:)?(?:si|is)>\s*<(?:\w+:)?r>")


def _inspect(path: Path) -> tuple[bool, bool]:
    """(has text with mixed formatting, has images), from the zip without parsing it."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        # Excel keeps text in the shared strings, openpyxl (and so elksxl) inline in the sheets.
        texts = [n for n in names if n.endswith("sharedStrings.xml")]
        texts += [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        rich = any(_contains(archive, name, _RICH_RUN) for name in texts)
        return rich, any(n.startswith("xl/media/") for n in names)


def _contains(archive: zipfile.ZipFile, name: str, pattern: re.Pattern[bytes]) -> bool:
    tail = b""
    with archive.open(name) as part:
        while block := part.read(1 << 20):
            if pattern.search(tail + block):
                return True
            tail = block[-64:]
    return False


def _find_sheet(book: Workbook, table: Table, path: Path) -> Worksheet:
    from openpyxl.worksheet.worksheet import Worksheet as CellSheet

    if table.sheet not in book.sheetnames:
        listed = ", ".join(repr(n) for n in book.sheetnames)
        raise WorkbookError(
            f"there is no sheet named {table.sheet!r}; the sheets are: {listed}", file=str(path)
        )
    sheet = book[table.sheet]
    if not isinstance(sheet, CellSheet):
        raise WorkbookError("this is a chart sheet, not a sheet with cells", file=str(path))
    return sheet


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
