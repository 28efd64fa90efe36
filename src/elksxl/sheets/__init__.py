"""Table adapters: the only modules that touch spreadsheet libraries.

Headless files (.xlsx and .csv alike, see ``dispatch``): :func:`read_table` reads a sheet
with python-calamine, or a CSV file; :func:`open_writer`
returns a :class:`WorkbookWriter` (a :class:`~elksxl.table.ResultSink`) that writes results
back and saves atomically: the :class:`XmlResultWriter`, which patches the sheet XML inside the
zip, whenever it can, else the openpyxl :class:`ResultWriter`.
"""

from __future__ import annotations

from ..table import RowResult
from .csvfile import read_csv, stream_csv
from .csvwriter import CsvResultWriter
from .dispatch import is_csv, open_writer, read_table, stream_table
from .saving import WorkbookWriter
from .writer import ResultWriter
from .xmlwriter import XmlResultWriter

__all__ = [
    "CsvResultWriter",
    "ResultWriter",
    "RowResult",
    "WorkbookWriter",
    "XmlResultWriter",
    "is_csv",
    "open_writer",
    "read_csv",
    "read_table",
    "stream_csv",
    "stream_table",
]
