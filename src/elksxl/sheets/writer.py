"""Write send results into the result columns of a workbook file and save it atomically.

:class:`ResultWriter` loads the workbook once with openpyxl (formulas stay formulas, macros and
external links are kept), finds or creates the result columns, writes only their cells, and
saves as often as asked, each time by replacing the file in one step (see
:mod:`elksxl.sheets.saving`). Column placement is shared with the XML writer
(:mod:`elksxl.sheets.columns`).

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
- :meth:`ResultWriter.set_campaign_id` stores the campaign id as the custom document property
  ``elksxl campaign`` with the next save, keeping the user's other custom properties.
"""

from __future__ import annotations

import gc
import importlib.util
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import WorkbookError
from ..table import CAMPAIGN_PROPERTY, RowResult, Table
from .columns import place_columns
from .files import MACRO_SUFFIXES, check_workbook_file, damaged
from .layout import outside_table
from .saving import WorkbookWriter

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["ResultWriter", "RowResult"]


class ResultWriter(WorkbookWriter):
    """Holds one workbook open in openpyxl, writes result cells, saves atomically on request."""

    def __init__(self, path: Path, table: Table) -> None:
        super().__init__(path, table.header_row)
        # openpyxl is imported here, not at module level: it costs ~25 MB and 0.2 s, and runs
        # that only read (plan, preview) must not pay for it.
        from .pyxlsheet import Filler, create_columns, excel_table, sheet_facts, widen

        self._book, self._warnings = _load(self.path)
        sheet = _find_sheet(self._book, table, self.path)
        listed = excel_table(sheet, table)
        placement = place_columns(sheet_facts(sheet, table, listed), table, self.path)
        create_columns(sheet, placement, table)
        if listed is not None:
            widen(sheet, listed, placement)
            self._warnings += outside_table(listed, placement.widened, placement.new)
        self._columns = placement.columns
        self._filler = Filler(sheet, self._columns)

    def _put(self, row: int, values: tuple[object, ...]) -> None:
        self._filler.put(row, values)

    def _write(self, out: BinaryIO) -> None:
        changed, campaign_id = self._campaign
        if changed:
            _store_campaign_id(self._book, campaign_id)
        with _captured(self._warnings) as said, _bulk():
            self._book.save(out)
        self._warnings = said.result()


def _store_campaign_id(book: Workbook, campaign_id: str | None) -> None:
    from openpyxl.packaging.custom import StringProperty

    props = book.custom_doc_props  # type: ignore[attr-defined]  # missing from the stubs
    props.props = [p for p in props.props if p.name != CAMPAIGN_PROPERTY]
    if campaign_id is not None:
        props.append(StringProperty(name=CAMPAIGN_PROPERTY, value=campaign_id))


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
