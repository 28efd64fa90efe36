"""Table adapters: the only modules that touch spreadsheet libraries.

Headless files: :func:`read_table` reads a sheet with python-calamine, :class:`ResultWriter`
writes results back with openpyxl and saves atomically; :class:`XmlResultWriter` does the same by
patching the sheet XML inside the zip, and :func:`open_writer` picks it whenever it can.
"""

from __future__ import annotations

from .csvfile import read_csv, stream_csv
from .csvwriter import CsvResultWriter
from .reader import read_table, stream_table
from .writer import ResultWriter, RowResult
from .xmlwriter import XmlResultWriter, open_writer

__all__ = [
    "CsvResultWriter",
    "ResultWriter",
    "RowResult",
    "XmlResultWriter",
    "open_writer",
    "read_csv",
    "read_table",
    "stream_csv",
    "stream_table",
]
