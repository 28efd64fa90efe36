"""What both workbook writers share: where a save goes, and saving there atomically.

:class:`WorkbookWriter` is a :class:`~elksxl.table.ResultSink` for a workbook file. It decides
between the workbook itself and ``NAME.results.xlsx`` (when the workbook is open in Excel or
LibreOffice, read-only, in a read-only folder, or changed on disk since it was opened; once
used, the results file stays the target for the rest of the run). Subclasses only say how to
remember a result and how to write the whole file.
"""

from __future__ import annotations

import stat
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import WorkbookError
from ..table import RowResult
from .files import atomic_save, column_letter, is_read_only, lock_file, results_path

__all__ = ["SaveTarget", "WorkbookWriter", "file_stamp"]


class WorkbookWriter(ABC):
    """Result cells of one sheet of one workbook file, saved atomically on request."""

    def __init__(self, path: Path, header_row: int) -> None:
        self.path = Path(path)
        self._header_row = header_row
        self._destination = SaveTarget(self.path)  # before loading: see SaveTarget
        self._warnings: tuple[str, ...] = ()
        self._columns: dict[str, int] = {}
        # (True, id) once set_campaign_id was called; a save then writes or removes the id.
        self._campaign: tuple[bool, str | None] = (False, None)

    @property
    def target(self) -> Path:
        """Where the next save goes: the workbook itself, or ``NAME.results.xlsx``."""
        return self._destination.target

    @property
    def fallback_reason(self) -> str | None:
        """Why results go to another file than the workbook (None while they do not)."""
        return self._destination.reason

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the workbook loses or what could not be done as usual, for the caller to show.

        For example features openpyxl cannot keep (shapes, cached formula results), or result
        columns that could not join the sheet's Excel table. Complete after each save.
        """
        return self._warnings

    @property
    def columns(self) -> dict[str, str]:
        """Result column header -> Excel column letter."""
        return {name: column_letter(col) for name, col in self._columns.items()}

    def set(self, row: int, result: RowResult) -> None:
        """Write ``result`` into the result cells of Excel row ``row`` (None = leave as is)."""
        if row <= self._header_row:
            raise ValueError(f"row {row} is not below the header row {self._header_row}")
        self._put(row, result.cells())

    def set_campaign_id(self, campaign_id: str | None) -> None:
        """Store ``campaign_id`` in the workbook's custom properties with the next save.

        None removes it. The user's other custom properties are kept.
        """
        self._campaign = (True, campaign_id)

    @abstractmethod
    def _put(self, row: int, values: tuple[object, ...]) -> None:
        """Remember the values (aligned with RESULT_COLUMNS; None = leave) for ``row``."""

    def save(self) -> Path:
        """Save atomically to :attr:`target` and return it."""
        return self._destination.save(self._write)

    @abstractmethod
    def _write(self, out: BinaryIO) -> None:
        """Write the whole workbook to ``out``."""


class SaveTarget:
    """Where one file's results are saved, atomically: the file itself, or
    ``NAME.results.EXT`` beside it when the file is open in Excel or LibreOffice, read-only, in
    a read-only folder, or changed on disk since it was read. Once used, the results file stays
    the target for the rest of the run. Shared by the workbook and the CSV writers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # Taken before the file is read, so a change made meanwhile counts as someone else's.
        self._stamp = file_stamp(self.path)
        self.target = self.path
        self.reason: str | None = None

    def save(self, write: Callable[[BinaryIO], None]) -> Path:
        """Write the file through ``write`` to :attr:`target`, atomically; returns the target."""
        if self.target == self.path:
            reason = self._refusal()
            if reason:
                self._fall_back(reason)
        elif lock := lock_file(self.target):
            raise WorkbookError(
                f"the results file is open in Excel or another program (lock file {lock.name}): "
                "close it, then save again",
                file=str(self.target),
            )
        try:
            self._save_to(self.target, write)
        except PermissionError as e:
            if self.target != self.path:
                raise _cannot_save(self.target, e) from e
            # Windows refuses to replace a file that another program holds open.
            self._fall_back(f"it could not be replaced ({e.strerror or e})")
            try:
                self._save_to(self.target, write)
            except OSError as again:
                raise _cannot_save(self.target, again) from again
        except OSError as e:
            raise _cannot_save(self.target, e) from e
        return self.target

    def _save_to(self, target: Path, write: Callable[[BinaryIO], None]) -> None:
        try:
            mode = stat.S_IMODE((target if target.exists() else self.path).stat().st_mode)
        except OSError:
            mode = 0o644
        if target != self.path:
            mode |= stat.S_IWUSR  # a copy of a read-only file should be writable
        # Replace the file a symbolic link points to, not the link itself.
        atomic_save(write, target.resolve() if target.is_symlink() else target, mode=mode)
        if target == self.path:
            self._stamp = file_stamp(target)

    def _refusal(self) -> str | None:
        lock = lock_file(self.path)
        if lock:
            return f"it is open in Excel or LibreOffice (lock file {lock.name})"
        if file_stamp(self.path) != self._stamp:
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
                    "current folder can be written; copy the file somewhere writable",
                    file=str(self.path),
                )
        self.target = results_path(self.path, folder)
        self.reason = reason


def _cannot_save(target: Path, error: OSError) -> WorkbookError:
    return WorkbookError(
        f"cannot save ({error.strerror or error}): check the disk and folder permissions",
        file=str(target),
    )


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of ``path``: changes when another program saves it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
