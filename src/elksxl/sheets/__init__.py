"""Table adapters: the only modules that touch spreadsheet libraries.

Headless files: :func:`read_table` reads a sheet with python-calamine, :class:`ResultWriter`
writes results back with openpyxl and saves atomically.
"""

from __future__ import annotations

from .reader import read_table, stream_table
from .writer import ResultWriter, RowResult

__all__ = ["ResultWriter", "RowResult", "read_table", "stream_table"]
