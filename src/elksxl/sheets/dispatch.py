"""One door for every contact-list file: .xlsx/.xlsm workbooks and .csv/.tsv/.txt text files.

Surfaces call :func:`read_table`, :func:`stream_table` and :func:`open_writer` from
``elksxl.sheets`` and get the reader and writer that fit the file's kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from ..errors import WorkbookError
from ..table import Row, Table
from . import reader, xmlwriter
from .csvfile import CSV_SUFFIXES, read_csv, stream_csv
from .csvwriter import CsvResultWriter
from .saving import WorkbookWriter

__all__ = ["is_csv", "open_writer", "read_table", "stream_table"]


def is_csv(path: Path) -> bool:
    return Path(path).suffix.lower() in CSV_SUFFIXES


def read_table(
    path: Path,
    sheet: str | None = None,
    *,
    header_row: int | None = None,
    table: str | None = None,
    include_hidden: bool = False,
) -> Table:
    """The contact list in ``path``: a sheet of a workbook (see reader.read_table), or a CSV."""
    if is_csv(path):
        _csv_options(path, header_row, table)
        return read_csv(Path(path), sheet, include_hidden=include_hidden)
    return reader.read_table(
        path, sheet, header_row=header_row, table=table, include_hidden=include_hidden
    )


def stream_table(
    path: Path,
    sheet: str | None = None,
    *,
    header_row: int | None = None,
    table: str | None = None,
    include_hidden: bool = False,
) -> AbstractContextManager[tuple[Table, Iterator[Row]]]:
    """Like :func:`read_table`, rows one at a time inside the ``with`` block."""
    if is_csv(path):
        _csv_options(path, header_row, table)
        return stream_csv(Path(path), sheet, include_hidden=include_hidden)
    return reader.stream_table(
        path, sheet, header_row=header_row, table=table, include_hidden=include_hidden
    )


def open_writer(path: Path, table: Table) -> WorkbookWriter | CsvResultWriter:
    """The result writer for ``path``'s kind of file."""
    if is_csv(path):
        return CsvResultWriter(Path(path), table)
    return xmlwriter.open_writer(path, table)


def _csv_options(path: Path, header_row: int | None, table: str | None) -> None:
    if table is not None:
        raise WorkbookError("a CSV file holds no Excel tables: leave out --table", file=str(path))
    if header_row not in (None, 1):
        raise WorkbookError(
            "in a CSV file the header is the first line: leave out --header-row", file=str(path)
        )
