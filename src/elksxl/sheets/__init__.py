"""Table adapters: the only modules that touch spreadsheet libraries.

Headless files: :func:`read_table` reads a sheet with python-calamine; :func:`open_writer`
returns a :class:`WorkbookWriter` (a :class:`~elksxl.table.ResultSink`) that writes results
back and saves atomically: the :class:`XmlResultWriter`, which patches the sheet XML inside the
zip, whenever it can, else the openpyxl :class:`ResultWriter`.
"""

from __future__ import annotations

from ..table import RowResult
from .reader import read_table, stream_table
from .saving import WorkbookWriter
from .writer import ResultWriter
from .xmlwriter import XmlResultWriter, open_writer

__all__ = [
    "ResultWriter",
    "RowResult",
    "WorkbookWriter",
    "XmlResultWriter",
    "open_writer",
    "read_table",
    "stream_table",
]
